"""Transparent critics that score SNOs: grounding, logic and novelty, combined into the trust score."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.critics.base import Critic, CriticResult, EvaluationContext
    from cns.critics.grounding import GroundingCritic
    from cns.critics.logic import LogicCritic
    from cns.critics.novelty import NoveltyCritic
    from cns.critics.pipeline import CriticPipeline, PipelineResult, build_pipeline


__all__ = [
    "Critic",
    "CriticPipeline",
    "CriticResult",
    "EvaluationContext",
    "GroundingCritic",
    "LogicCritic",
    "NoveltyCritic",
    "PipelineResult",
    "build_pipeline",
]

_EXPORTS = {
    "Critic": "cns.critics.base",
    "CriticResult": "cns.critics.base",
    "EvaluationContext": "cns.critics.base",
    "GroundingCritic": "cns.critics.grounding",
    "LogicCritic": "cns.critics.logic",
    "NoveltyCritic": "cns.critics.novelty",
    "CriticPipeline": "cns.critics.pipeline",
    "PipelineResult": "cns.critics.pipeline",
    "build_pipeline": "cns.critics.pipeline",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
