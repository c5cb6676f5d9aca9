"""Evaluate SNOs against a population with the configured critics.

The novelty reference set is the population's SNOs with ``T ≥ thresholds.novelty_reference_trust``
(docs/design-notes.md#the-novelty-reference-set); they are put in a :class:`~cns.ports.VectorIndex` so the novelty critic's nearest-
neighbour query costs one matrix product regardless of population size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from cns.config.settings import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.critics.base import EvaluationContext
from cns.critics.pipeline import CriticPipeline, PipelineResult, build_pipeline
from cns.index.memory import ExactVectorIndex
from cns.ports import Embedder, NLIModel, VectorIndex


def build_reference_index(
    population: Iterable[StructuredNarrativeObject], *, dimension: int, min_trust: float
) -> VectorIndex:
    """An exact index of the hypothesis embeddings of trusted SNOs."""
    index = ExactVectorIndex(dimension)
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    for sno in population:
        trusted = sno.trust_score is not None and sno.trust_score >= min_trust
        if sno.hypothesis_embedding is not None and trusted:
            ids.append(sno.sno_id)
            vectors.append(sno.hypothesis_embedding)
    if ids:
        index.add(ids, np.stack(vectors).astype(np.float32))
    return index


class Evaluator:
    """Embeds hypotheses when missing and runs the critic pipeline."""

    def __init__(self, config: CNSConfig, *, embedder: Embedder, nli: NLIModel) -> None:
        self.config = config
        self.embedder = embedder
        self.nli = nli
        self.pipeline: CriticPipeline = build_pipeline(config, nli=nli, embedder=embedder)
        #: finds a reference SNO by id for the novelty critic (set by the workflow manager to read
        #: its store); None = novelty cannot tell opponents and copies from look-alikes
        self.reference_lookup: Callable[[str], StructuredNarrativeObject | None] | None = None

    def ensure_embedding(self, sno: StructuredNarrativeObject) -> None:
        if sno.hypothesis_embedding is None:
            sno.set_embedding(
                self.embedder.encode([sno.central_hypothesis])[0], expected_dim=self.config.embedding_dim
            )
        else:
            sno.validate(embedding_dim=self.config.embedding_dim)

    def evaluate(
        self,
        sno: StructuredNarrativeObject,
        *,
        reference_index: VectorIndex | None = None,
        exclude_ids: Iterable[str] = (),
        reference_lookup: Callable[[str], StructuredNarrativeObject | None] | None = None,
    ) -> PipelineResult:
        """Score ``sno`` (setting its trust and evaluation) against ``reference_index``."""
        self.ensure_embedding(sno)
        context = EvaluationContext(
            reference_index=reference_index,
            exclude_ids=frozenset(exclude_ids),
            reference_lookup=reference_lookup or self.reference_lookup,
        )
        result = self.pipeline.evaluate_sno(sno, context)
        assert sno.evaluation is not None
        sno.evaluation["models"] = {
            "embedder": f"{self.embedder.name}@{self.embedder.version}",
            "nli": f"{self.nli.name}@{self.nli.version}",
        }
        return result

    def evaluate_population(self, snos: list[StructuredNarrativeObject]) -> list[PipelineResult]:
        """Score every SNO against the others (each excluded from its own reference set).

        SNOs without a trust score yet are first scored without a novelty reference, so the
        reference set is defined by trust alone and does not depend on input order.
        """
        for sno in snos:
            self.ensure_embedding(sno)
        for sno in snos:
            if sno.trust_score is None:
                self.evaluate(sno)
        index = build_reference_index(
            snos,
            dimension=self.config.embedding_dim,
            min_trust=self.config.thresholds.novelty_reference_trust,
        )
        by_id = {sno.sno_id: sno for sno in snos}
        return [self.evaluate(sno, reference_index=index, reference_lookup=by_id.get) for sno in snos]
