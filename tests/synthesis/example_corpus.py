"""The example corpus (examples/) ingested and synthesized with the deterministic fakes.

Built once per test session (ingestion of the 12 documents takes a few seconds): the documents
by id, so tests can check provenance offsets against the real source text, and every pair's
offline synthesis result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cns.config import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.critics.evaluator import Evaluator, build_reference_index
from cns.ingestion import Document, HeuristicExtractor, build_sno, load_path, sno_id_for
from cns.pairs import ChiralPair, PairSearchOptions, find_chiral_pairs
from cns.synthesis import SynthesisEngine, SynthesisResult
from cns.testing.fakes import HashEmbedder, RuleNLI

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class ExampleCorpus:
    documents: dict[str, Document]  # by document_id
    snos: list[StructuredNarrativeObject]
    pairs: list[ChiralPair]
    results: list[SynthesisResult]
    config: CNSConfig
    embedder: HashEmbedder
    nli: RuleNLI


def corpus_config() -> CNSConfig:
    return CNSConfig(
        models={"embedding_backend": "fake", "nli_backend": "fake"},
        # the rule NLI sees long same-topic sentences as entailing each other, so the narrative
        # score is 0 for every pair; these tests are about synthesis, so pair by the hypotheses
        chirality={"method": "nli"},
        synthesis_thresholds={"opposition": 0.0, "chirality": 0.01, "entanglement": 0.3, "potential": 0.0},
        pair_search={"topic_neighbours": 0, "side_consistency": False},
        population={"synthesis_cooldown_seconds": 0, "max_refinements": 0},
    )


def ingest_examples(
    embedder: HashEmbedder, nli: RuleNLI
) -> tuple[dict[str, Document], list[StructuredNarrativeObject]]:
    extractor = HeuristicExtractor(embedder, nli)
    tag = f"{extractor.name}@{extractor.version}"
    documents = {d.document_id: d for d in load_path(EXAMPLES).documents}
    snos = [
        build_sno(
            doc,
            extractor.extract(doc),
            sno_id=sno_id_for(doc.document_id, tag),
            embedder=embedder,
            embedding_dim=embedder.dimension,
            backends={"embedder": embedder.name, "nli": nli.name},
        )
        for doc in documents.values()
    ]
    return documents, snos


@lru_cache(maxsize=1)
def example_corpus() -> ExampleCorpus:
    config = corpus_config()
    embedder, nli = HashEmbedder(384), RuleNLI()
    documents, snos = ingest_examples(embedder, nli)
    evaluator = Evaluator(config, embedder=embedder, nli=nli)
    evaluator.evaluate_population(snos)
    pairs = find_chiral_pairs(
        snos, config, nli=nli, embedder=embedder, options=PairSearchOptions(max_pairs=len(snos))
    )
    engine = SynthesisEngine(config, evaluator=evaluator)
    reference = build_reference_index(
        snos, dimension=config.embedding_dim, min_trust=config.thresholds.novelty_reference_trust
    )
    results = [engine.synthesize(p, reference) for p in pairs]
    return ExampleCorpus(documents, snos, pairs, results, config, embedder, nli)
