"""The critic contract shared by grounding, logic and novelty.

A critic is a small object with a ``name`` and ``evaluate(sno, context) -> CriticResult``. It
does no I/O of its own: the models it needs (NLI, a vector index of the reference population)
are injected, and every result records which model names and versions produced it, so scores
stay reproducible and comparable across runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cns.errors import ValidationError
from cns.ports import VectorIndex

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject


@dataclass(frozen=True)
class CriticResult:
    """One critic's verdict on one SNO."""

    critic: str
    score: float
    confidence: float
    explanation: str
    sub_scores: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("score", "confidence"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValidationError(f"critic {self.critic}: {name} must be in [0, 1], got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "critic": self.critic,
            "score": self.score,
            "confidence": self.confidence,
            "explanation": self.explanation,
            "sub_scores": dict(self.sub_scores),
            "evidence": dict(self.evidence),
            "models": dict(self.models),
        }


@dataclass(frozen=True)
class EvaluationContext:
    """What a critic may look at besides the SNO itself.

    ``reference_index`` holds the hypothesis embeddings of the novelty reference set (population
    SNOs with T ≥ τ_ref, docs/design-notes.md#the-novelty-reference-set); ``exclude_ids`` are never compared with (the SNO itself, or a
    synthesis's parents when the caller wants that). ``reference_lookup`` returns a reference SNO by
    id (None if gone); with it the novelty critic can tell an opponent or a copy of the same
    document from a narrative that really says the same thing.
    """

    reference_index: VectorIndex | None = None
    exclude_ids: frozenset[str] = frozenset()
    reference_lookup: Callable[[str], StructuredNarrativeObject | None] | None = None


@runtime_checkable
class Critic(Protocol):
    """Anything that scores an SNO in [0, 1] with an explanation."""

    @property
    def name(self) -> str: ...

    def evaluate(self, sno: StructuredNarrativeObject, context: EvaluationContext) -> CriticResult: ...


def clip01(value: float) -> float:
    return min(1.0, max(0.0, float(value)))
