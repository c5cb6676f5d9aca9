"""The critic breakdown of one narrative in plain words: what each number means and what moved it.

The critics already record everything needed — their score, a one-line explanation, sub-scores
and the weights the pipeline used (``sno.evaluation``). This module only reads those records and
says, for each critic, how much it added to the trust score and which of its parts pulled it up
or down, so an analyst does not have to know the formulas to see why a narrative scored as it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cns.core.sno import StructuredNarrativeObject

#: what each critic measures, in the words the report's legend uses
MEANING = {
    "grounding": "how well the claims are supported by the evidence the document cites "
    "(for each claim, the best entailment by one of its evidence items, averaged)",
    "logic": "how coherent the reasoning graph is: claims that reach the hypothesis, no claim that "
    "contradicts or weakens a chain it sits in, not more structure than needed",
    "novelty": "how different the narrative is from the trusted narratives already in the population "
    "(half the distance to the nearest one, minus a small penalty for complexity)",
}

#: what a sub-score of a critic means (grounding's sub-scores are per claim and explained apart)
PART_MEANING = {
    ("logic", "orphan"): "share of claims that reach the hypothesis",
    ("logic", "coherence"): "share of reasoning chains without a contradicting or weakening step",
    ("logic", "parsimony"): "how lean the graph is (edges per claim)",
    ("logic", "base"): "the score before the parts above are combined",
    ("novelty", "novelty"): "half the distance to the nearest trusted narrative (1 = nothing like it)",
    ("novelty", "parsimony_penalty"): "subtracted for complexity (more claims and edges)",
}

#: a part this far above or below the critic's own score is said to raise or lower it
NOTABLE = 0.05


@dataclass(frozen=True)
class Part:
    """One sub-score with its meaning and whether it raised or lowered its critic's score."""

    name: str
    value: float
    meaning: str
    effect: str  # "raised", "lowered" or "" (about average)


@dataclass(frozen=True)
class CriticLine:
    """One critic: score, weight, what it contributes to trust, and its explanation in words."""

    name: str
    score: float
    weight: float
    contribution: float
    meaning: str
    explanation: str
    verdict: str
    parts: list[Part] = field(default_factory=list)


@dataclass(frozen=True)
class Breakdown:
    trust: float | None
    critics: list[CriticLine]
    summary: str


def _verdict(score: float) -> str:
    if score >= 0.7:
        return "strong"
    if score >= 0.4:
        return "middling"
    return "weak"


def _parts(name: str, result: dict[str, Any], claims: dict[str, str]) -> list[Part]:
    score = float(result.get("score", 0.0))
    parts = []
    for key, raw in (result.get("sub_scores") or {}).items():
        value = float(raw)
        if name == "grounding":
            text = claims.get(key, key)
            meaning = f"best support found for {'the hypothesis' if key == 'root' else 'claim'} “{text}”"
        else:
            meaning = PART_MEANING.get((name, key), key.replace("_", " "))
        penalty = key.endswith("penalty")
        if penalty:
            effect = "lowered" if value > 0 else ""
        elif value >= score + NOTABLE:
            effect = "raised"
        elif value <= score - NOTABLE:
            effect = "lowered"
        else:
            effect = ""
        parts.append(Part(key, value, meaning, effect))
    return parts


def critic_breakdown(sno: StructuredNarrativeObject) -> Breakdown:
    """Every critic of ``sno`` as a :class:`CriticLine`, and a one-sentence summary of trust."""
    evaluation = sno.evaluation or {}
    results: dict[str, dict[str, Any]] = evaluation.get("critic_results") or {}
    weights: dict[str, float] = {k: float(v) for k, v in (evaluation.get("weights_used") or {}).items()}
    total = sum(weights.get(n, 0.0) for n in results) or 1.0
    claims = {c.claim_id: c.content for c in sno.claims()}
    lines = []
    for name, result in results.items():
        score = float(result.get("score", 0.0))
        weight = weights.get(name, 0.0) / total
        lines.append(
            CriticLine(
                name=name,
                score=score,
                weight=weight,
                contribution=weight * score,
                meaning=MEANING.get(name, "a critic score between 0 and 1"),
                explanation=str(result.get("explanation", "")),
                verdict=_verdict(score),
                parts=_parts(name, result, claims),
            )
        )
    lines.sort(key=lambda line: -line.contribution)
    if not lines:
        return Breakdown(sno.trust_score, [], "This narrative has not been evaluated by the critics.")
    best, worst = max(lines, key=lambda c: c.score), min(lines, key=lambda c: c.score)
    summary = (
        f"Trust is the weighted mean of the {len(lines)} critics. "
        f"{best.name.capitalize()} ({best.score:.2f}) raised it most; "
        f"{worst.name} ({worst.score:.2f}) held it back most."
    )
    return Breakdown(sno.trust_score, lines, summary)
