"""The central hypothesis is the document's thesis: not its title, not a side remark, no markup."""

from __future__ import annotations

import pytest

from cns.errors import IngestionError
from cns.ingestion import HeuristicExtractor, make_document
from cns.ingestion.document import Document
from cns.ingestion.loaders.text import load_txt
from cns.ingestion.model import Extraction
from cns.testing.fakes import HashEmbedder, RuleNLI

DEBATE = (
    "Electronic tags are a good idea – the case against (Debatewise)\n\n"
    "The scheme started in a cold winter. "
    "Electronic tags are not a good idea, because tagged offenders can still commit crimes at home. "
    "Tagged offenders removed their electronic tags in many reported cases. "
    "Monitoring electronic tags costs more than the scheme promised.\n"
)


def _extract(doc: Document) -> Extraction:
    return HeuristicExtractor(HashEmbedder(384), RuleNLI()).extract(doc)


def _txt(text: str) -> Document:
    (doc,) = load_txt(text.encode("utf-8"), "doc.txt")
    return doc


def test_long_title_line_is_never_the_hypothesis() -> None:
    loaded = _txt(DEBATE)
    assert loaded.title == "Electronic tags are a good idea – the case against (Debatewise)"
    for doc in (loaded, make_document(DEBATE, "pasted")):  # with and without a title in metadata
        extraction = _extract(doc)
        assert "Debatewise" not in extraction.hypothesis
        assert extraction.hypothesis == (
            "Electronic tags are not a good idea, because tagged offenders can still commit crimes at home."
        )


def test_thesis_marker_beats_opening_and_closing_remarks() -> None:
    text = (
        "Our town opened its first zoo in 1950, on a sunny day.\n\n"
        "Zoo animals live in small enclosures. This essay contends that zoos harm the animals they keep. "
        "Zoo animals often show signs of stress.\n\n"
        "The last visitors left at six in the evening."
    )
    assert _extract(make_document(text, "zoo.txt")).hypothesis == (
        "This essay contends that zoos harm the animals they keep."
    )


def test_position_statement_beats_description() -> None:
    text = (
        "Telemarketing calls reach millions of homes each year. "
        "Telemarketing firms employ many people in call centres. "
        "Telemarketing should be banned, since telemarketing calls intrude on homes. "
        "Telemarketing calls are made in the evening."
    )
    assert _extract(make_document(text, "t.txt")).hypothesis == (
        "Telemarketing should be banned, since telemarketing calls intrude on homes."
    )


def test_reported_opposing_view_is_not_the_thesis() -> None:
    text = (
        "Critics argue that school uniforms should be abolished. "
        "School uniforms should be kept, because school uniforms reduce bullying over clothes. "
        "Uniforms cost parents little."
    )
    assert _extract(make_document(text, "u.txt")).hypothesis.startswith("School uniforms should be kept")


def test_links_and_markup_never_reach_the_hypothesis_but_stay_evidence() -> None:
    text = (
        "We argue that electronic tags fail [[http://example.org/tags-report]] to prevent crime. "
        "Offenders removed tags (see [the inspectorate report](https://example.org/insp)). "
        "Tags cost money."
    )
    extraction = _extract(make_document(text, "m.txt"))
    assert extraction.hypothesis == "We argue that electronic tags fail to prevent crime."
    assert not any(mark in extraction.hypothesis for mark in ("[[", "]]", "http", "](", "<"))
    keys = {item.key for item in extraction.evidence}
    assert "url:example.org/tags-report" in keys
    assert "url:example.org/insp" in keys


def test_cjk_document_gets_a_hypothesis() -> None:
    text = "電子タグは良い考えではない。犯罪者はタグを外すことができる。\n\n結論として、電子タグは刑務所の代わりにはならない。"
    extraction = _extract(_txt(text))
    assert extraction.hypothesis in {
        "電子タグは良い考えではない。",
        "犯罪者はタグを外すことができる。",
        "結論として、電子タグは刑務所の代わりにはならない。",
    }


def test_text_without_words_fails_with_a_clear_error() -> None:
    with pytest.raises(IngestionError, match="document has no words"):
        _extract(make_document("🙂🙂🙂 !!! ???\n\n...", "odd.txt"))


@pytest.mark.parametrize(
    ("text", "hypothesis"),
    [("http://a.org http://b.org\n", "http://a.org http://b.org"), ("Title only line", "Title only line")],
)
def test_text_without_a_sentence_uses_its_wordiest_line(text: str, hypothesis: str) -> None:
    # the API accepts any text with a word, so the worker must produce an SNO from it
    assert _extract(make_document(text, "odd.txt")).hypothesis == hypothesis
