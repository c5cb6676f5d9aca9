"""Sentence segmentation with character offsets into the original text.

``pysbd`` (rule-based, offline, no model download) splits prose; it runs per *chunk* — a
paragraph with its heading lines taken out — so a heading never fuses with the first sentence
below it and long documents are segmented in small, fast pieces. Each sentence is then located
in the original text from a moving cursor, which guarantees ``text[s.start:s.end] == s.text``
(pysbd's own ``char_span`` option can misplace repeated sentences).

pysbd's time grows with the square of its input, so a paragraph longer than ``WINDOW_CHARS``
(a PDF without blank lines, a pasted book) is segmented window by window: each window's last
sentence, which may continue past the window, is segmented again at the start of the next one.
A 500,000-character paragraph takes seconds this way instead of minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_TERMINAL = tuple('.!?:;,"”’)]。．｡！？；：」』）')
# pysbd's English rules do not split at full-width sentence ends (ideographic 。, full-width ．！？,
# half-width ｡); Chinese and Japanese put no space after them, so the split is by character
_CJK_SENTENCE_END = re.compile(r"(?<=[。．｡！？])(?=[^\s」』）”’。．｡！？])")
_MAX_HEADING_CHARS = 100
#: prose longer than this is segmented in windows of about this size (see the module docstring)
WINDOW_CHARS = 4000
#: a window ends at the last space within this many characters of its nominal end
_WINDOW_SLACK = 200
_MAX_HEADING_WORDS = 12


@dataclass(frozen=True)
class Sentence:
    """A sentence (or heading line) and its ``[start, end)`` character span in the document."""

    text: str
    start: int
    end: int
    index: int = 0
    paragraph: int = 0
    is_heading: bool = False


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if match.start() > start:
            yield start, match.start()
        start = match.end()
    if start < len(text):
        yield start, len(text)


def _is_heading(line: str, prev: str | None, nxt: str | None) -> bool:
    """A short unpunctuated line standing alone at a sentence boundary is a heading, not wrapped prose."""
    stripped = line.strip()
    if not stripped or len(stripped) > _MAX_HEADING_CHARS or len(stripped.split()) > _MAX_HEADING_WORDS:
        return False
    if stripped.endswith(_TERMINAL):
        return False
    after_boundary = prev is None or not prev.strip() or prev.rstrip().endswith(tuple(".!?:"))
    before_start = (
        nxt is None or not nxt.strip() or nxt.lstrip()[:1].isupper() or nxt.lstrip()[:1] in "[(0123456789"
    )
    return after_boundary and before_start


def _chunks(text: str, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, is_heading)`` pieces of one paragraph: heading lines alone, prose runs together."""
    lines: list[tuple[int, int]] = []
    pos = start
    for line in text[start:end].split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    run_start: int | None = None
    for i, (ls, le) in enumerate(lines):
        prev = text[lines[i - 1][0] : lines[i - 1][1]] if i > 0 else None
        nxt = text[lines[i + 1][0] : lines[i + 1][1]] if i + 1 < len(lines) else None
        if _is_heading(text[ls:le], prev, nxt):
            if run_start is not None:
                yield run_start, lines[i - 1][1], False
                run_start = None
            yield ls, le, True
        elif run_start is None:
            run_start = ls
    if run_start is not None:
        yield run_start, lines[-1][1], False


def _locate(text: str, piece: str, cursor: int, limit: int) -> tuple[int, int] | None:
    """Find ``piece`` in ``text[cursor:limit]`` exactly, else with any whitespace between its words."""
    stripped = piece.strip()
    if not stripped:
        return None
    pos = text.find(stripped, cursor, limit)
    if pos >= 0:
        return pos, pos + len(stripped)
    pattern = r"\s+".join(re.escape(tok) for tok in stripped.split())
    match = re.compile(pattern).search(text, cursor, limit)
    return (match.start(), match.end()) if match else None


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _locate_pieces(pieces: list[str], flat: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Spans of ``pieces`` found in order in ``flat[start:end]``, plus every non-blank gap between them."""
    cursor = start
    for piece in pieces:
        found = _locate(flat, piece, cursor, end)
        if found is None:
            continue  # pysbd altered the piece beyond whitespace; the gap is recovered below
        if flat[cursor : found[0]].strip():
            yield cursor, found[0]
        yield found
        cursor = found[1]
    if cursor < end and flat[cursor:end].strip():
        yield cursor, end


def _window_end(flat: str, start: int) -> int:
    """Where the window starting at ``start`` ends: at a space near ``start + WINDOW_CHARS`` if any."""
    nominal = start + WINDOW_CHARS
    if nominal >= len(flat):
        return len(flat)
    space = flat.rfind(" ", nominal - _WINDOW_SLACK, nominal)
    return space + 1 if space > start else nominal


def _prose_spans(segmenter: Any, flat: str) -> Iterator[tuple[int, int]]:
    """``[start, end)`` spans of the sentences of one prose chunk, segmented window by window."""
    pos = 0
    while pos < len(flat):
        end = _window_end(flat, pos)
        window = flat[pos:end]
        pieces = [p for chunk in segmenter.segment(window) for p in _CJK_SENTENCE_END.split(chunk)]
        spans = list(_locate_pieces(pieces, flat, pos, end))
        if end < len(flat) and len(spans) > 1:
            # the window's last sentence may go on past ``end``: segment it again with what follows
            yield from spans[:-1]
            pos = spans[-1][0]
        else:
            yield from spans  # the last window, or one sentence longer than a window: cut at ``end``
            pos = end


def split_sentences(text: str, *, language: str = "en") -> list[Sentence]:
    """Sentences of ``text`` in order, each with exact offsets; headings flagged ``is_heading``."""
    import pysbd

    segmenter = pysbd.Segmenter(language=language, clean=False)
    spans: list[tuple[int, int, int, bool]] = []
    for p_index, (p_start, p_end) in enumerate(_paragraphs(text)):
        for c_start, c_end, heading in _chunks(text, p_start, p_end):
            c_start, c_end = _trimmed(text, c_start, c_end)
            if c_start >= c_end:
                continue
            if heading:
                spans.append((c_start, c_end, p_index, True))
                continue
            # line breaks inside prose are wrapping, not sentence ends; same length keeps offsets valid
            flat = text[c_start:c_end].replace("\n", " ")
            for start, end in _prose_spans(segmenter, flat):
                start, end = _trimmed(text, c_start + start, c_start + end)
                if start < end:
                    spans.append((start, end, p_index, False))
    return [
        Sentence(text[s:e], s, e, index=i, paragraph=p, is_heading=h) for i, (s, e, p, h) in enumerate(spans)
    ]
