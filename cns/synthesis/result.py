"""The outcome of one synthesis and the numbers that describe it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cns.core.sno import StructuredNarrativeObject
from cns.critics.pipeline import PipelineResult
from cns.pairs.types import ChiralPair
from cns.synthesis.strategy import SynthesisStrategy


@dataclass
class SynthesisResult:
    """``accepted`` iff a valid candidate reached ``T ≥ thresholds.synthesis``.

    ``sno`` is the evaluated candidate — also when the critics rejected it, so the caller can
    archive it with its reasons — and ``None`` when no valid candidate was produced or the
    pair was ``skipped`` (cooldown). ``reasons`` explain a rejection or skip in plain words.
    """

    accepted: bool
    sno: StructuredNarrativeObject | None
    reasons: list[str]
    attempts: int
    strategy: SynthesisStrategy | None
    metrics: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "sno_id": None if self.sno is None else self.sno.sno_id,
            "reasons": list(self.reasons),
            "attempts": self.attempts,
            "strategy": None if self.strategy is None else self.strategy.value,
            "metrics": dict(self.metrics),
            "skipped": self.skipped,
        }


def synthesis_metrics(
    pair: ChiralPair, sno: StructuredNarrativeObject, evaluation: PipelineResult
) -> dict[str, Any]:
    """Trust, per-critic scores, evidence preservation and trust gain over the better parent."""
    union = pair.sno_a.evidence_keys | pair.sno_b.evidence_keys
    shared = pair.sno_a.source_keys & pair.sno_b.source_keys
    kept = sno.evidence_keys
    parents = [t for t in (pair.sno_a.trust_score, pair.sno_b.trust_score) if t is not None]
    better = max(parents) if parents else None
    return {
        "trust": evaluation.trust_score,
        "critic_scores": {name: r.score for name, r in evaluation.critic_results.items()},
        "evidence_preservation_ratio": len(kept & union) / len(union) if union else 0.0,
        "shared_evidence_preserved": shared <= kept,
        "better_parent_trust": better,
        "trust_gain": None if better is None else evaluation.trust_score - better,
        "claims": sno.reasoning_graph.number_of_nodes() - 1,
        "edges": sno.reasoning_graph.number_of_edges(),
    }
