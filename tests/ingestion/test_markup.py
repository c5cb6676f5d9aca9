"""Link/markup stripping and the boilerplate rules that keep titles and page furniture out of theses."""

from __future__ import annotations

import pytest

from cns.ingestion.boilerplate import is_boilerplate, is_standalone_line, word_count
from cns.ingestion.markup import strip_markup


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Tags fail [[http://example.org/report]] in practice.", "Tags fail in practice."),
        ("See [[Electronic tagging|the tagging article]] for more.", "See the tagging article for more."),
        ("See [[Electronic tagging]] now.", "See Electronic tagging now."),
        (
            "Read [the inspectorate report](https://example.org/insp) first.",
            "Read the inspectorate report first.",
        ),
        ("Costs rose (see https://example.org/costs).", "Costs rose."),
        ("Costs rose <https://example.org/c> sharply.", "Costs rose sharply."),
        ("Tags are <b>not</b> a good idea.", "Tags are not a good idea."),
        ("Tags are **not** a *good* idea.", "Tags are not a good idea."),
        ("- Tags should be abolished.", "Tags should be abolished."),
        ("## Tags should be abolished", "Tags should be abolished"),
        ("[http://example.org/x the report] says so.", "the report says so."),
    ],
)
def test_strip_markup(raw: str, clean: str) -> None:
    assert strip_markup(raw) == clean


def test_strip_markup_keeps_citation_markers_and_plain_text() -> None:
    text = "Fossils match on both coasts [1], as Wegener (1912) noted (Smith, 2001)."
    assert strip_markup(text) == text
    assert strip_markup("http://a.org http://b.org") == ""


@pytest.mark.parametrize(
    "line",
    [
        "Electronic tags are a good idea – the case against (Debatewise)",
        "Electronic tags are a good idea - the case for",
        "Posted by admin on 3 May 2014",
        "© 2020 Example Press. All rights reserved.",
        "Retrieved from https://example.org/page on 1 May.",
        "Click here to read more about the debate.",
        "Photo: a tagged offender leaving court.",
    ],
)
def test_page_furniture_is_boilerplate(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Electronic tags are not a good idea because offenders remove them.",
        "The case for zoos is weak because animals suffer in captivity.",
        "We should abolish zoos.",
    ],
)
def test_statements_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate(line)


def test_title_and_unpunctuated_standalone_lines_are_boilerplate() -> None:
    assert is_boilerplate("Why zoos must close", title="Why Zoos Must Close")
    assert is_boilerplate("Zoos and their critics in the modern age of conservation", standalone=True)
    assert not is_boilerplate("Zoos must close.", standalone=True)
    text = "A title line\n\nA sentence. Another one\nwraps here."
    assert is_standalone_line(text, 0, 12)
    assert not is_standalone_line(text, 14, 25)


def test_word_count_handles_cjk_and_symbols() -> None:
    assert word_count("Zoos should not be abolished.") == 5
    assert word_count("電子タグは良い考えではない。") == 7  # 13 CJK characters, one word per two
    assert word_count("🙂 !!! ???") == 0
