"""Sentence segmentation keeps exact character offsets into the original text."""

from __future__ import annotations

import time
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from cns.ingestion import segment
from cns.ingestion.segment import split_sentences


def _check_offsets(text: str) -> None:
    sentences = split_sentences(text)
    previous_end = 0
    for s in sentences:
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.start >= previous_end
        previous_end = s.end
    covered: set[int] = set()
    for s in sentences:
        covered.update(range(s.start, s.end))
    # every non-space character belongs to some sentence: nothing is silently lost
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_offsets_and_headings() -> None:
    text = (
        "Continental Drift\nBy Jane Doe\n\nAbstract\nDr. Smith argued that e.g. plates move [3]. "
        "However, it is not clear!  See https://doi.org/10.1/x.y. Next line\n\nNew para."
    )
    sentences = split_sentences(text)
    _check_offsets(text)
    assert [s.text for s in sentences if s.is_heading] == ["Continental Drift", "Abstract"]
    body = [s.text for s in sentences if not s.is_heading]
    assert "Dr. Smith argued that e.g. plates move [3]." in body
    assert "However, it is not clear!" in body
    assert body[-1] == "New para."
    assert sentences[-1].paragraph > sentences[0].paragraph


def test_repeated_sentences_get_distinct_spans() -> None:
    text = "The sky is blue. The sky is blue. The sky is blue."
    spans = [(s.start, s.end) for s in split_sentences(text)]
    assert spans == [(0, 16), (17, 33), (34, 50)]


def test_wrapped_prose_is_not_split_into_headings() -> None:
    text = "The theory was controversial because no\nmechanism was known at the time.\nIt was rejected."
    sentences = split_sentences(text)
    assert not any(s.is_heading for s in sentences)
    assert sentences[0].text.endswith("known at the time.")


_WORDS = st.sampled_from(
    [
        "The",
        "cat",
        "Dr.",
        "e.g.",
        "U.S.",
        "3.5",
        "[1]",
        "(Smith, 2001)",
        "however,",
        "we",
        "argue",
        "that",
        "x",
    ]
)
_SEPARATORS = st.sampled_from([" ", "  ", ". ", "! ", "? ", "\n", "\n\n", " \t", "... ", ".\n"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_WORDS, _SEPARATORS), min_size=1, max_size=40))
def test_offsets_property(parts: list[tuple[str, str]]) -> None:
    _check_offsets("".join(w + s for w, s in parts))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300))
def test_offsets_property_arbitrary_text(text: str) -> None:
    _check_offsets(text)


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.tuples(_WORDS, _SEPARATORS), min_size=1, max_size=80), window=st.integers(8, 120))
def test_offsets_property_with_tiny_windows(parts: list[tuple[str, str]], window: int) -> None:
    # windows of a few characters cut sentences and words: offsets must stay exact and nothing is lost
    with patch.object(segment, "WINDOW_CHARS", window), patch.object(segment, "_WINDOW_SLACK", window // 2):
        _check_offsets("".join(w + s for w, s in parts))


def test_a_long_paragraph_gives_the_same_sentences_as_short_ones() -> None:
    sentences = [
        f"Plates move {i} centimetres a year because the mantle convects (Smith, 2001)." for i in range(400)
    ]
    one_paragraph = " ".join(sentences)  # ~31,000 characters: segmented in windows
    assert len(one_paragraph) > 5 * segment.WINDOW_CHARS
    assert [s.text for s in split_sentences(one_paragraph)] == sentences


def test_segmentation_time_grows_linearly_with_a_paragraph() -> None:
    """Before: pysbd on a whole paragraph took 56 s for 250,000 characters and 260 s for 500,000."""
    sentence = "Coffee improves focus because caffeine blocks adenosine receptors, e.g. in the U.S. "

    def seconds(chars: int) -> float:
        text = (sentence * (chars // len(sentence) + 1))[:chars]
        start = time.perf_counter()
        split_sentences(text)
        return time.perf_counter() - start

    small, large = seconds(40_000), seconds(160_000)
    # 4x the text: ~4x the time when linear, ~16x when quadratic (the old behaviour)
    assert large < 8 * small + 0.5, (small, large)
