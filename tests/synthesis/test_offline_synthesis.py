"""The offline dialectical synthesizer: structure, honesty (quotes only) and determinism."""

from __future__ import annotations

import pytest

from cns.core.evidence import EvidenceItem
from cns.synthesis import SECTION_ORDER, SynthesisEngine, check_readability, section_text
from cns.synthesis.prose import comparable
from cns.synthesis.provenance import quoted_passages
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.conftest import make_sno
from tests.synthesis.example_corpus import example_corpus
from tests.synthesis.synth_fixtures import config, evaluator, make_pair


def parent_texts(pair: object) -> list[str]:
    texts = []
    for parent in (pair.sno_a, pair.sno_b):  # type: ignore[attr-defined]
        texts += [c.content for c in parent.claims()] + [e.content for e in parent.evidence_set]
    return texts


def test_offline_synthesis_states_the_conflict_and_what_the_evidence_shows(
    embedder: HashEmbedder, nli: RuleNLI
) -> None:
    cf = config()
    pair = make_pair(embedder, nli)
    result = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli)).synthesize(pair)
    sno = result.sno
    assert sno is not None and sno.metadata["synthesizer"] == "offline"
    # the shared trial entails A's "more alert", not B's "less alert": the reconciled position
    assert sno.central_hypothesis == (
        "The evidence both accounts cite supports account A's statement “caffeine makes workers more "
        "alert”, not account B's “caffeine makes workers less alert”."
    )
    sections = sno.metadata["sections"]
    assert list(sections) == list(SECTION_ORDER)
    assert sections["conflict"] == [
        "Account A (a) states: “caffeine makes workers more alert”.",
        "Account B (b) states instead: “caffeine makes workers less alert”.",
    ]
    assert sections["evidence_for_each_side"][0] == (
        "For account A, the shared evidence [1] supports: “caffeine makes workers more alert”."
    )
    assert sections["evidence_for_each_side"][1].endswith("it rests on its own sources [2].")
    assert sno.metadata["references"][0]["key"] == "doi:10.1/trial"
    assert sno.metadata["references"][1]["key"] == "doi:10.1/sleep"
    assert {c.content for c in sno.claims()} - {sno.central_hypothesis} == {
        "caffeine makes workers more alert",
        "caffeine makes workers less alert",
    }
    assert pair.shared_evidence <= sno.evidence_keys and result.metrics["shared_evidence_preserved"] is True


def test_every_quoted_passage_is_parent_text(embedder: HashEmbedder, nli: RuleNLI) -> None:
    corpus = example_corpus()
    checked = 0
    for pair, result in zip(corpus.pairs, corpus.results, strict=True):
        assert result.sno is not None
        sources = [comparable(t) for t in parent_texts(pair)]
        for sentence in [result.sno.central_hypothesis, *section_text(result.sno.metadata)]:
            for passage in quoted_passages(sentence):
                assert any(comparable(passage) in s for s in sources), passage
                checked += 1
        for claim in result.sno.claims():
            if claim.claim_id != "root":
                assert any(comparable(claim.content) in s for s in sources), claim.content
    assert checked >= 4 * len(corpus.pairs)  # both conflict quotes twice (sections + hypothesis)


def test_example_corpus_syntheses_pass_the_readability_checks() -> None:
    corpus = example_corpus()
    assert len(corpus.pairs) >= 5
    for pair, result in zip(corpus.pairs, corpus.results, strict=True):
        sno = result.sno
        assert sno is not None and sno.metadata["synthesizer"] == "offline"
        starts = parent_texts(pair)
        report = check_readability(
            [sno.central_hypothesis, *section_text(sno.metadata)], sentence_starts=starts
        )
        assert report.ok, report.problems()
        assert check_readability(sno.central_hypothesis).sentences == 1
        assert all(sno.metadata["sections"][name] for name in SECTION_ORDER)


def test_links_and_citation_markers_become_reference_numbers(embedder: HashEmbedder, nli: RuleNLI) -> None:
    link = "http://www.guardian.co.uk/society/asbo-breaches"
    a = make_sno(
        f"antisocial behaviour orders [[{link}]] reduce disorder in towns",
        ["people who had orders breached them and disorder fell"],
        [("people who had orders breached them and disorder fell", "doi:10.1/asbo")],
        embedder=embedder,
        trust=0.6,
        sno_id="a",
    )
    b = make_sno(
        "antisocial behaviour orders do not reduce disorder in towns",
        ["people who had orders breached them and disorder rose"],
        [("people who had orders breached them and disorder fell", "doi:10.1/asbo")],
        embedder=embedder,
        trust=0.6,
        sno_id="b",
    )
    cf = config()
    from cns.pairs import find_chiral_pairs

    [pair] = find_chiral_pairs([a, b], cf, nli=nli, embedder=embedder)
    result = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli)).synthesize(pair)
    assert result.sno is not None
    text = " ".join([result.sno.central_hypothesis, *section_text(result.sno.metadata)])
    assert "[[" not in text and "http" not in text
    refs = {r["key"]: r["n"] for r in result.sno.metadata["references"]}
    assert refs["url:guardian.co.uk/society/asbo-breaches"] == 2 and refs["doi:10.1/asbo"] == 1
    assert "Account A (a) states: “antisocial behaviour orders [2] reduce disorder in towns”." in text
    assert check_readability(text).ok


def test_offline_synthesis_is_deterministic(embedder: HashEmbedder, nli: RuleNLI) -> None:
    cf = config()
    seen = set()
    for _ in range(2):
        pair = make_pair(embedder, nli)
        result = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli)).synthesize(pair)
        assert result.sno is not None
        sections = repr(result.sno.metadata["sections"])
        seen.add((result.sno.sno_id, result.sno.content_hash(), result.sno.trust_score, sections))
    assert len(seen) == 1


@pytest.mark.parametrize("marker", ["[5]", "[4, 5]"])
def test_unresolved_document_markers_are_dropped_not_misnumbered(marker: str) -> None:
    from cns.synthesis.prose import ReferenceBook, clean_sentence

    book = ReferenceBook()
    item = EvidenceItem("a cited sentence", source_id="doi:10.1/x")
    assert clean_sentence(f"Millikan confirmed it {marker}.", book, {}) == "Millikan confirmed it."
    assert clean_sentence(f"Millikan confirmed it {marker}.", book, {marker: [item]}) == (
        "Millikan confirmed it [1]."
    )
