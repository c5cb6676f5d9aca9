"""Conflict points of chiral pairs: which statements of the two narratives contradict each other.

A word-and-antonym list misses most real disagreements (and flags negated agreement), so CNS
asks the NLI model instead. For every claim pair across
the two reasoning graphs, both directions are scored and ``p = max(p_contra(a→b), p_contra(b→a))``;
pairs above the threshold are kept, strongest first, at most ``top``. The hypothesis-vs-hypothesis
conflict is always listed first, whatever its probability, because it is the conflict the
synthesis must resolve. All pairs of all requested narratives go to the model in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

from cns.core.graph import ROOT_ID, ClaimNode
from cns.core.sno import StructuredNarrativeObject
from cns.metrics import opposition_from_probs
from cns.pairs.types import ConflictPoint
from cns.ports import NLIModel


def _claims(sno: StructuredNarrativeObject, limit: int) -> list[ClaimNode]:
    return [c for c in sno.claims() if c.claim_id != ROOT_ID][:limit]


def conflict_points(
    pairs: Sequence[tuple[StructuredNarrativeObject, StructuredNarrativeObject]],
    *,
    nli: NLIModel,
    threshold: float = 0.5,
    top: int = 5,
    max_claims_per_side: int = 20,
) -> list[list[ConflictPoint]]:
    """For each ``(sno_a, sno_b)``, its hypothesis conflict followed by up to ``top`` claim conflicts."""
    index: list[tuple[int, ClaimNode, ClaimNode]] = []
    for p, (sno_a, sno_b) in enumerate(pairs):
        index.append((p, sno_a.root, sno_b.root))
        for ca in _claims(sno_a, max_claims_per_side):
            index.extend((p, ca, cb) for cb in _claims(sno_b, max_claims_per_side))
    if not index:
        return []
    forward = [(ca.content, cb.content) for _, ca, cb in index]
    probs = nli.predict(forward + [(b, a) for a, b in forward])
    contra = opposition_from_probs(probs[: len(index)], probs[len(index) :])
    found: list[list[ConflictPoint]] = [[] for _ in pairs]
    claims: list[list[ConflictPoint]] = [[] for _ in pairs]
    for (p, ca, cb), score in zip(index, contra.tolist(), strict=True):
        point = ConflictPoint(
            "hypothesis" if ca.claim_id == ROOT_ID else "claim",
            ca.claim_id,
            cb.claim_id,
            ca.content,
            cb.content,
            float(score),
        )
        if point.kind == "hypothesis":
            found[p].append(point)
        elif score >= threshold:
            claims[p].append(point)
    for p, items in enumerate(claims):
        items.sort(key=lambda c: (-c.p_contra, c.claim_a, c.claim_b))
        found[p].extend(items[:top])
    return found
