"""Guided narrative exploration: move a narrative away from its chiral partner
(docs/design-notes.md#guided-exploration).

``exploration_target`` computes ``H_target``; ``GuidedExplorer.explore(S_i, S_j, C)`` generates K
candidate hypotheses and returns a new SNO built around the one closest to ``H_target``.
"""

from cns.exploration.candidates import extractive_candidates
from cns.exploration.explorer import ExplorationResult, GuidedExplorer
from cns.exploration.target import DEFAULT_ALPHA, DEFAULT_BETA, exploration_target

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_BETA",
    "ExplorationResult",
    "GuidedExplorer",
    "exploration_target",
    "extractive_candidates",
]
