"""Guided narrative exploration (docs/design-notes.md#guided-exploration).

``H_target`` conditions a generator: K candidate hypotheses are generated (LLM, or extractive
recombinations of S_i's claims), embedded, and the one with the highest cosine to ``H_target``
becomes the hypothesis of a **new** candidate SNO that keeps S_i's reasoning graph and evidence.
S_i itself is never modified. The new SNO still has to pass the critics like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cns.config.settings import CNSConfig
from cns.core.graph import ROOT_ID
from cns.core.ids import normalize_text, stable_id
from cns.core.sno import StructuredNarrativeObject
from cns.errors import ModelError, ValidationError
from cns.exploration.candidates import extractive_candidates, llm_candidates
from cns.exploration.target import DEFAULT_ALPHA, DEFAULT_BETA, exploration_target
from cns.logging_setup import get_logger
from cns.ports import Embedder, LLMClient

log = get_logger(__name__)


@dataclass(frozen=True)
class ExplorationResult:
    sno: StructuredNarrativeObject
    target: NDArray[np.float64]
    candidates: list[tuple[str, float]]  # (hypothesis, cosine to H_target), in generation order
    chosen: int
    generator: str


def _embedding(sno: StructuredNarrativeObject, embedder: Embedder) -> NDArray[np.float32]:
    if sno.hypothesis_embedding is not None:
        return sno.hypothesis_embedding
    vector: NDArray[np.float32] = embedder.encode([sno.central_hypothesis])[0]
    return vector


def _derived_sno(
    source: StructuredNarrativeObject, hypothesis: str, sno_id: str
) -> StructuredNarrativeObject:
    """A new SNO with ``hypothesis`` as root and ``source``'s claims, edges and evidence."""
    new = StructuredNarrativeObject(hypothesis, sno_id=sno_id, evidence_set=source.evidence_set)
    same = normalize_text(hypothesis).lower()
    skipped = set()
    for claim in source.claims():
        if claim.claim_id == ROOT_ID:
            continue
        if normalize_text(claim.content).lower() == same:
            skipped.add(claim.claim_id)  # now the hypothesis itself
            continue
        new.add_claim(claim.content, claim.claim_type, claim_id=claim.claim_id, confidence=claim.confidence)
    for edge in source.edges():
        if edge.source not in skipped and edge.target not in skipped:
            new.add_reasoning_edge(edge.source, edge.target, edge.relation_type, edge.strength)
    return new


class GuidedExplorer:
    """Generates a refined narrative of ``S_i`` that moves away from its chiral partner ``S_j``."""

    def __init__(
        self,
        config: CNSConfig,
        *,
        embedder: Embedder,
        llm: LLMClient | None = None,
        k: int = 8,
        alpha: float = DEFAULT_ALPHA,
        beta: float = DEFAULT_BETA,
    ) -> None:
        if k < 1:
            raise ValidationError(f"k (candidates per exploration) must be >= 1, got {k}")
        self.config, self.embedder, self.llm = config, embedder, llm
        self.k, self.alpha, self.beta = k, alpha, beta

    def _generate(
        self, sno: StructuredNarrativeObject, partner: StructuredNarrativeObject
    ) -> tuple[list[str], str]:
        if self.llm is not None:
            try:
                texts = llm_candidates(
                    self.llm, sno, partner, self.k, temperature=self.config.llm.temperature
                )
                if texts:
                    return texts, "llm"
            except ModelError as exc:
                log.warning("exploration.llm_failed", sno_id=sno.sno_id, error=exc.message[:200])
        return extractive_candidates(sno, self.k), "extractive"

    def explore(
        self,
        sno: StructuredNarrativeObject,
        partner: StructuredNarrativeObject,
        chirality: float,
        *,
        proxy: ArrayLike | None = None,
    ) -> ExplorationResult:
        """The candidate closest to ``H_target``; raises ``ValidationError`` if none can be generated."""
        target = exploration_target(
            _embedding(sno, self.embedder),
            _embedding(partner, self.embedder),
            chirality,
            alpha=self.alpha,
            beta=self.beta,
            proxy=proxy,
        )
        texts, generator = self._generate(sno, partner)
        if not texts:
            raise ValidationError(
                f"SNO {sno.sno_id} has no claims to recombine and no LLM is configured: nothing to explore"
            )
        vectors = self.embedder.encode(texts)
        cosines = (vectors.astype(np.float64) @ target).tolist()
        chosen = int(np.argmax(cosines))
        new = _derived_sno(
            sno, texts[chosen], stable_id("exploration", sno.sno_id, partner.sno_id, texts[chosen])
        )
        new.set_embedding(vectors[chosen], expected_dim=self.config.embedding_dim)
        new.metadata.update(
            {
                "explored_from": sno.sno_id,
                "partner": partner.sno_id,
                "generator": generator,
                "alpha": self.alpha,
                "beta": self.beta,
                "chirality": chirality,
                "target_cosine": cosines[chosen],
                "candidates": [{"hypothesis": t, "cosine": c} for t, c in zip(texts, cosines, strict=True)],
            }
        )
        return ExplorationResult(new, target, list(zip(texts, cosines, strict=True)), chosen, generator)
