"""The heuristic extractor: hypothesis choice, claims, typed edges, evidence spans, determinism."""

from __future__ import annotations

import networkx as nx
import pytest

from cns.core.graph import ROOT_ID, RelationType
from cns.errors import IngestionError
from cns.ingestion import ExtractorSettings, HeuristicExtractor, build_sno, make_document
from cns.ingestion.document import Document
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.ingestion.ingest_helpers import DRIFT_TEXT


def _sno(doc: Document, settings: ExtractorSettings | None = None):  # type: ignore[no-untyped-def]
    embedder = HashEmbedder(384)
    extraction = HeuristicExtractor(embedder, RuleNLI(), settings).extract(doc)
    return extraction, build_sno(
        doc, extraction, sno_id="t", embedder=embedder, embedding_dim=384, backends={}
    )


@pytest.fixture
def drift() -> Document:
    return make_document(DRIFT_TEXT, "drift.txt", {"title": "Continental Drift Revisited"})


def test_hypothesis_is_the_thesis_sentence(drift: Document) -> None:
    extraction, sno = _sno(drift)
    assert sno.central_hypothesis in {
        "In conclusion, the evidence shows that continents drift, as Wegener (1912) proposed.",
        "We argue that the continents have moved across the globe over geological time [1].",
    }
    assert extraction.hypothesis_span is not None
    start, end = extraction.hypothesis_span
    assert drift.text[start:end] == sno.central_hypothesis
    assert sno.hypothesis_embedding is not None and sno.hypothesis_embedding.shape == (384,)


def test_centrality_beats_first_cue_match() -> None:
    text = (
        "We show that the office coffee machine was replaced last spring in the lobby.\n\n"
        "Glaciers retreat as ocean temperatures rise. Warmer oceans melt glaciers from below. "
        "Glacier retreat accelerates when ocean water warms. We show that warming oceans drive glacier retreat. "
        "Ocean heat reaches glacier fronts through fjords."
    )
    extraction, _ = _sno(make_document(text, "g.txt"))
    assert extraction.hypothesis == "We show that warming oceans drive glacier retreat."


def test_claims_exclude_hypothesis_references_and_respect_cap(drift: Document) -> None:
    extraction, sno = _sno(drift, ExtractorSettings(max_claims=3))
    assert len(extraction.claims) == 3
    texts = [c.text for c in extraction.claims]
    assert sno.central_hypothesis not in texts
    assert not any("Die Entstehung" in t or "Journal of Geology" in t for t in texts)
    _, full = _sno(drift)
    assert 5 <= full.reasoning_graph.number_of_nodes() - 1 <= 12


def test_edges_are_typed_from_discourse_markers_and_form_a_dag(drift: Document) -> None:
    _, sno = _sno(drift)
    graph = sno.reasoning_graph
    assert nx.is_directed_acyclic_graph(graph)
    assert graph.out_degree(ROOT_ID) == 0  # the hypothesis is the conclusion
    by_text = {c.content.split()[0]: c.claim_id for c in sno.claims()}
    edges = {(e.source, e.target): e for e in sno.edges()}
    because = [e for (s, _), e in edges.items() if s == by_text["Because"]]
    assert because and because[0].relation_type is RelationType.SUPPORTS
    assert because[0].metadata["basis"] == "discourse:because"
    however = [e for (s, _), e in edges.items() if s == by_text["However,"]]
    assert however and however[0].relation_type.is_opposing
    therefore = [e for (_, t), e in edges.items() if t == by_text["Therefore"]]
    assert therefore and therefore[0].relation_type is RelationType.IMPLIES
    # every claim reaches the hypothesis: nothing is an orphan
    assert all(nx.has_path(graph, node, ROOT_ID) for node in graph)


def test_every_evidence_span_contains_its_content(drift: Document) -> None:
    _, sno = _sno(drift)
    assert sno.evidence_set
    for item in sno.evidence_set:
        assert item.span is not None and item.document_id == drift.document_id
        assert drift.text[item.span[0] : item.span[1]] == item.content
        assert not item.content.startswith("Citation reference")


def test_claims_record_their_grounding_evidence(drift: Document) -> None:
    _, sno = _sno(drift)
    keys = sno.evidence_keys
    for claim in sno.claims():
        grounding = claim.metadata["evidence_keys"]
        assert grounding and set(grounding) <= keys
        start, end = claim.metadata["span"]
        assert drift.text[start:end] == claim.content
        own = [e for e in sno.evidence_set if e.key == grounding[0]]
        assert own[0].content == claim.content  # first key: the claim's own sentence


def test_citations_become_canonical_evidence(drift: Document) -> None:
    _, sno = _sno(drift)
    assert {"doi:10.1000/xyz.1", "doi:10.1007/bf01802337", "url:example.org/fossils"} <= sno.evidence_keys
    cited = next(e for e in sno.evidence_set if e.key == "doi:10.1000/xyz.1")
    assert "Palaeomagnetic data" in cited.content and cited.metadata["kind"] == "citation"


def test_extraction_is_deterministic(drift: Document) -> None:
    _, a = _sno(drift)
    _, b = _sno(drift)
    assert a.content_hash() == b.content_hash()


def test_short_document_still_yields_a_hypothesis() -> None:
    extraction, sno = _sno(make_document("Plates move.", "s.txt"))
    assert sno.central_hypothesis == "Plates move." and extraction.claims == []


def test_document_of_headings_only_uses_the_line_with_most_words() -> None:
    # what the API accepts (a text with a word) must extract: the wordiest line is the thesis
    extraction, sno = _sno(make_document("Title\n\nAnother Heading", "h.txt"))
    assert sno.central_hypothesis == "Another Heading" and extraction.claims == []


def test_document_without_words_raises() -> None:
    with pytest.raises(IngestionError, match=r"no words \(only punctuation, symbols or emoji\)"):
        _sno(make_document("!!! ???\n\n🙂 🙂", "h.txt"))


def test_long_document_keeps_the_conclusion_within_the_sentence_budget() -> None:
    filler = " ".join(
        f"Sentence number {i} describes the weather on day {i} in some detail." for i in range(300)
    )
    text = f"{filler}\n\nIn conclusion, we argue that glaciers retreat because warming oceans melt them from below."
    extraction, _ = _sno(make_document(text, "long.txt"), ExtractorSettings(max_sentences=50))
    assert extraction.notes["candidates"] == 50
    assert extraction.hypothesis.startswith("In conclusion, we argue")
