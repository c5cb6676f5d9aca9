"""Transparent critics that score SNOs: grounding, logic and novelty, combined into the trust score."""

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
