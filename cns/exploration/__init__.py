"""Guided narrative exploration: move a narrative away from its chiral partner
(docs/design-notes.md#guided-exploration).

``exploration_target`` computes ``H_target``; ``GuidedExplorer.explore(S_i, S_j, C)`` generates K
candidate hypotheses and returns a new SNO built around the one closest to ``H_target``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS = {
    "extractive_candidates": "cns.exploration.candidates",
    "ExplorationResult": "cns.exploration.explorer",
    "GuidedExplorer": "cns.exploration.explorer",
    "DEFAULT_ALPHA": "cns.exploration.target",
    "DEFAULT_BETA": "cns.exploration.target",
    "exploration_target": "cns.exploration.target",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
