"""Grounding critic: is each claim entailed by some piece of evidence?

``Score_G = mean over claims v of max over evidence e of p_entail(e ⇒ v)``, with the evidence
content as NLI premise and the claim as hypothesis. All ``|V| · |E|`` pairs go to the NLI model
in one batched call.

The root hypothesis *is* a claim to ground (``grounding.include_root``, default
on) — a narrative whose central claim no evidence entails is not well grounded. A narrative
without evidence scores 0 with full confidence and says so. ``grounding.top_k_evidence`` caps the
cost by keeping, per claim, only the k evidence items most similar to it by embedding when an
embedder is supplied, and of those only the ones within ``grounding.similarity_margin`` of the
most similar (where some claim has more than k items, so the vectors are computed anyway);
without an embedder every item is used. A claim is never tested against
an evidence item that merely quotes that same sentence of its own document (non-source items,
``EvidenceItem.is_source``): a sentence cannot ground itself. A citation does count — citing is
how a document grounds a claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from cns.config.settings import GroundingConfig
from cns.core.ids import normalize_text
from cns.critics.base import CriticResult, EvaluationContext, clip01
from cns.ingestion.markup import strip_markup
from cns.ports import ENTAILMENT, Embedder, FloatArray, NLIModel

if TYPE_CHECKING:
    from cns.core.evidence import EvidenceItem
    from cns.core.sno import StructuredNarrativeObject

CONFIDENCE = 0.8


def _same_text(a: str, b: str) -> bool:
    """One sentence, whether or not its link syntax was stripped (claims and hypotheses are stored
    without it, the evidence item quoting their sentence keeps it): never grounds itself."""
    return _plain(a) == _plain(b)


def _plain(text: str) -> str:
    return normalize_text(strip_markup(text) or text).lower()


def _pairs(
    claims: Sequence[str], evidence: Sequence[EvidenceItem], candidates: list[list[int]]
) -> list[tuple[str, str]]:
    """(premise = evidence content, hypothesis = claim) for every candidate, claim by claim."""
    return [(evidence[j].content, claims[i]) for i, idx in enumerate(candidates) for j in idx]


def _nearest(idx: list[int], sims: FloatArray, k: int, margin: float | None) -> list[int]:
    """The (at most ``k``) items of ``idx`` most similar to the claim, most similar first, without
    those more than ``margin`` below the most similar one.

    Why the margin: the entailing item is almost always among the claim's closest in meaning; on the
    gold sets no item that far below the best one was ever the best-entailing among the top k, so
    judging it was work that could not change the score (a fifth of the grounding pairs).
    """
    ranked = sorted(idx, key=lambda j: -float(sims[j]))[:k]
    if margin is None or not ranked:
        return ranked
    floor = float(sims[ranked[0]]) - margin
    return [j for j in ranked if float(sims[j]) >= floor]


class GroundingCritic:
    """NLI-based grounding of claims in evidence."""

    name = "grounding"

    def __init__(
        self, nli: NLIModel, config: GroundingConfig | None = None, embedder: Embedder | None = None
    ) -> None:
        self.nli = nli
        self.config = config or GroundingConfig()
        self.embedder = embedder

    def _candidates(self, claims: Sequence[str], evidence: Sequence[EvidenceItem]) -> list[list[int]]:
        """Per claim, the evidence indices to test: never the claim's own sentence, top-k if configured."""
        allowed = [
            [j for j, item in enumerate(evidence) if item.is_source or not _same_text(item.content, claim)]
            for claim in claims
        ]
        k = self.config.top_k_evidence
        if k is None or self.embedder is None or all(len(idx) <= k for idx in allowed):
            # no ranking needed, so no vectors at hand: embedding the evidence only to apply the
            # margin would cost about as much as the pairs it saves
            return allowed
        vectors = self.embedder.encode([*claims, *(e.content for e in evidence)])  # one call
        sims = vectors[: len(claims)] @ vectors[len(claims) :].T
        return [_nearest(idx, sims[i], k, self.config.similarity_margin) for i, idx in enumerate(allowed)]

    def plan_pairs(
        self, hypothesis: str, claims: Sequence[str], evidence: Iterable[EvidenceItem]
    ) -> list[tuple[str, str]]:
        """The (evidence, claim) pairs :meth:`evaluate` will judge for an SNO with this content.

        ``claims`` are the sub-claims in insertion order and ``evidence`` the items in the order they
        will be added (an SNO keeps the first item per canonical key). Ingestion asks for these pairs
        while it types edges, so both go through the NLI model in one forward pass; if the plan ever
        differs from what :meth:`evaluate` sees, the difference is judged then — never wrongly reused.
        """
        texts = ([hypothesis] if self.config.include_root else []) + list(claims)
        first: dict[str, EvidenceItem] = {}
        for item in evidence:
            first.setdefault(item.key, item)
        items = [first[key] for key in sorted(first)]
        if not texts or not items:
            return []
        return _pairs(texts, items, self._candidates(texts, items))

    def evaluate(self, sno: StructuredNarrativeObject, context: EvaluationContext) -> CriticResult:
        models = {"nli": f"{self.nli.name}@{self.nli.version}"}
        claims = [c for c in sno.claims() if self.config.include_root or c.claim_id != "root"]
        evidence = sorted(sno.evidence_set, key=lambda e: e.key)
        if not claims or not evidence:
            reason = "no evidence to ground the claims" if claims else "no claims to ground"
            return CriticResult(
                self.name, 0.0, 1.0, reason, {}, {"claims": len(claims), "evidence": len(evidence)}, models
            )
        candidates = self._candidates([c.content for c in claims], evidence)
        pairs = _pairs([c.content for c in claims], evidence, candidates)
        probs = self.nli.predict(pairs)[:, ENTAILMENT].astype(np.float64) if pairs else np.zeros(0)
        per_claim: dict[str, float] = {}
        best_source: dict[str, str] = {}
        offset = 0
        for claim, idx in zip(claims, candidates, strict=True):
            scores = probs[offset : offset + len(idx)]
            offset += len(idx)
            if not idx:  # only its own sentence was on offer: a claim cannot ground itself
                per_claim[claim.claim_id] = 0.0
                continue
            if self.config.quality_weighted:
                scores = scores * np.array([evidence[j].quality for j in idx])
            best = int(np.argmax(scores))
            per_claim[claim.claim_id] = clip01(scores[best])
            best_source[claim.claim_id] = evidence[idx[best]].key
        score = clip01(float(np.mean(list(per_claim.values()))))
        weakest = min(per_claim, key=lambda cid: per_claim[cid])
        explanation = (
            f"{len(claims)} claims against {len(evidence)} evidence items; mean best entailment {score:.3f}; "
            f"weakest claim {weakest!r} ({per_claim[weakest]:.3f})"
        )
        details = {
            "claims": len(claims),
            "evidence": len(evidence),
            "nli_pairs": len(pairs),
            "best_evidence": best_source,
        }
        return CriticResult(self.name, score, CONFIDENCE, explanation, per_claim, details, models)
