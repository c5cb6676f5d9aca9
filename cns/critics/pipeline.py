"""The critic pipeline: T = Σ wᵢ sᵢ / Σ wᵢ.

Dividing by the sum of the weights means weights need not sum to 1 (a check for an exact float
sum of 1.0 fails on rounding). Weights can be changed at runtime, by value or
by preset name (``default``, ``exploration``, ``verification``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cns.config.settings import CRITIC_WEIGHT_PRESETS, CNSConfig, CriticWeights
from cns.critics.base import Critic, CriticResult, EvaluationContext, clip01
from cns.critics.grounding import GroundingCritic
from cns.critics.logic import LogicCritic
from cns.critics.novelty import NoveltyCritic
from cns.errors import ConfigError
from cns.ports import Embedder, NLIModel

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject


@dataclass(frozen=True)
class PipelineResult:
    """The pipeline's verdict: trust plus every critic's result and the weights used."""

    trust_score: float
    critic_results: dict[str, CriticResult]
    weights_used: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "trust_score": self.trust_score,
            "critic_results": {name: r.to_dict() for name, r in self.critic_results.items()},
            "weights_used": dict(self.weights_used),
        }


@dataclass
class CriticStats:
    evaluations: int = 0
    total_score: float = 0.0

    @property
    def avg_score(self) -> float:
        return self.total_score / self.evaluations if self.evaluations else 0.0


@dataclass
class CriticPipeline:
    """Runs each critic and combines their scores into a trust score."""

    critics: Sequence[Critic]
    weights: dict[str, float]
    stats: dict[str, CriticStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.adjust_weights(self.weights)

    def adjust_weights(self, weights: Mapping[str, float] | CriticWeights | str) -> None:
        """Replace the weights (a preset name, a CriticWeights or a name → weight mapping)."""
        if isinstance(weights, str):
            if weights not in CRITIC_WEIGHT_PRESETS:
                raise ConfigError.for_key("critic_weights", f"unknown preset {weights!r}")
            weights = CRITIC_WEIGHT_PRESETS[weights]
        values = weights.as_dict() if isinstance(weights, CriticWeights) else dict(weights)
        names = {c.name for c in self.critics}
        unknown = set(values) - names
        if unknown:
            raise ConfigError.for_key("critic_weights", f"no critic named {sorted(unknown)}")
        if any(v < 0 for v in values.values()) or sum(values.get(n, 0.0) for n in names) <= 0:
            raise ConfigError.for_key("critic_weights", "weights must be >= 0 with a positive sum")
        self.weights = {n: float(values.get(n, 0.0)) for n in names}

    def evaluate_sno(
        self, sno: StructuredNarrativeObject, context: EvaluationContext | None = None
    ) -> PipelineResult:
        """Score ``sno``, set its ``trust_score`` and ``evaluation``, and return the details."""
        context = context or EvaluationContext()
        results = {critic.name: critic.evaluate(sno, context) for critic in self.critics}
        total_w = sum(self.weights[name] for name in results)
        trust = sum(self.weights[name] * r.score for name, r in results.items()) / total_w if total_w else 0.0
        trust = clip01(trust)
        for name, result in results.items():
            stat = self.stats.setdefault(name, CriticStats())
            stat.evaluations += 1
            stat.total_score += result.score
        outcome = PipelineResult(trust, results, dict(self.weights))
        sno.trust_score = trust
        sno.evaluation = outcome.to_dict()
        return outcome

    def get_statistics(self) -> dict[str, dict[str, float]]:
        return {
            name: {"weight": self.weights[name], "evaluations": s.evaluations, "avg_score": s.avg_score}
            for name, s in self.stats.items()
        }


def build_pipeline(config: CNSConfig, *, nli: NLIModel, embedder: Embedder | None = None) -> CriticPipeline:
    """The standard grounding / logic / novelty pipeline with the configured weights."""
    critics: list[Critic] = [
        GroundingCritic(nli, config.grounding, embedder),
        LogicCritic(config.logic),
        NoveltyCritic(config.novelty, nli=nli, embedder=embedder, chirality=config.chirality),
    ]
    return CriticPipeline(critics, config.critic_weights.as_dict())
