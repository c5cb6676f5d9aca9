"""Turning the parents' raw sentences into quotable prose: markup out, links in as ``[n]``.

Documents arrive with wiki links (``[[http://…]]``), markdown links, bare URLs, HTML tags and
emphasis marks. A reader of a synthesis needs none of it, but must still be able to follow a link
to its source, so every link becomes a numbered reference (``[3]``) kept in a
:class:`ReferenceBook`, numbered in order of first use, shared with the evidence items that the
synthesis cites. Only markup is removed and only reference numbers are added: the words stay the
parents' own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cns.core.evidence import EvidenceItem, canonical_key, normalize_url

_WIKI = re.compile(r"\[\[([^\]|]*)(?:\|([^\]]*))?\]\]")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|www\.)[^)\s]*)\)")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"“”\])]+")
_TAG = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_MARKER = re.compile(r"\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]")
MAX_QUOTE_WORDS = 32
_COUNTED_WORD = re.compile(r"[\w'’-]+")  # the readability check's word


@dataclass
class ReferenceBook:
    """Numbered references ``[1] … [n]``: evidence items and links, in order of first use."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    _numbers: dict[str, int] = field(default_factory=dict)

    def number_for_item(self, item: EvidenceItem) -> int:
        """The number of an evidence item (added on first use)."""
        if item.key not in self._numbers:
            self.entries.append(
                {
                    "n": len(self.entries) + 1,
                    "key": item.key,
                    "source_id": item.source_id,
                    "document_id": item.document_id,
                    "span": list(item.span) if item.span is not None else None,
                    "text": item.content[:300],
                }
            )
            self._numbers[item.key] = len(self.entries)
        return self._numbers[item.key]

    def number_for_link(self, url: str) -> int:
        """The number of a link found inside a sentence (an item with the same key shares it)."""
        key = normalize_url(url) or canonical_key(url, url)
        if key not in self._numbers:
            self.entries.append(
                {"n": len(self.entries) + 1, "key": key, "source_id": url, "document_id": None, "span": None}
            )
            self._numbers[key] = len(self.entries)
        return self._numbers[key]

    def cite(self, items: list[EvidenceItem]) -> str:
        """``"[1], [3]"`` for the given items (empty string for none)."""
        numbers = sorted({self.number_for_item(i) for i in items})
        return ", ".join(f"[{n}]" for n in numbers)


def _wiki(book: ReferenceBook, match: re.Match[str]) -> str:
    target, label = match.group(1).strip(), (match.group(2) or "").strip()
    if _URL.match(target):
        return f"{label} [{book.number_for_link(target)}]" if label else f" [{book.number_for_link(target)}]"
    return label or target  # an internal wiki link: keep its visible words


def _renumber(text: str, book: ReferenceBook, markers: Mapping[str, list[EvidenceItem]]) -> str:
    """The document's own ``[5]`` / ``[4, 5]`` markers become the synthesis's numbers.

    A marker the document did not resolve to a source is dropped: left in place it would point
    at the wrong entry of the synthesis's reference list.
    """

    def swap(match: re.Match[str]) -> str:
        numbers = sorted({book.number_for_item(item) for item in markers.get(match.group(0), [])})
        return " ".join(f"[{n}]" for n in numbers)

    return _MARKER.sub(swap, text)


def clean_sentence(
    text: str, book: ReferenceBook, markers: Mapping[str, list[EvidenceItem]] | None = None
) -> str:
    """``text`` without markup, links replaced by reference numbers, whitespace collapsed.

    ``markers`` maps the citation markers of the sentence's own document (``"[5]"``) to the
    evidence items they cite; without it numeric markers are kept as they are.
    """
    out = _renumber(text, book, markers) if markers is not None else text
    out = _WIKI.sub(lambda m: _wiki(book, m), out)
    out = _MD_LINK.sub(lambda m: f"{m.group(1)} [{book.number_for_link(m.group(2))}]", out)
    out = _URL.sub(lambda m: f"[{book.number_for_link(m.group(0).rstrip('.,;:'))}]", out)
    out = _TAG.sub(" ", out)
    out = _EMPHASIS.sub("", out)
    out = _HEADING.sub("", out)
    out = " ".join(out.split())
    out = _SPACE_BEFORE_PUNCT.sub(r"\1", out)
    return out.strip()


def _counted_words(words: list[str]) -> int:
    """Words as the readability check counts them (``-LRB-`` or ``ærᵻ-zoʊ`` may be several)."""
    return len(_COUNTED_WORD.findall(" ".join(words)))


def shorten(text: str, max_words: int = MAX_QUOTE_WORDS) -> str:
    """At most ``max_words`` words, cut at the last clause break that keeps half of them (``…``).

    Words are counted as the readability check counts them, so a quote of tokenised or
    transliterated text cannot push its sentence over the sentence-length limit.
    """
    words = text.split()
    if _counted_words(words) <= max_words:
        return text
    head = words[:max_words]
    while len(head) > 1 and _counted_words(head) > max_words:
        head = head[:-1]
    for i in range(len(head) - 1, max_words // 2, -1):
        if head[i].endswith((",", ";", ":")):
            head = head[: i + 1]
            break
    return " ".join(head).rstrip(",;:") + " …"


def quote(
    text: str,
    book: ReferenceBook,
    markers: Mapping[str, list[EvidenceItem]] | None = None,
    max_words: int = MAX_QUOTE_WORDS,
) -> str:
    """A cleaned, shortened sentence in quotation marks, without its final full stop."""
    body = shorten(clean_sentence(text, book, markers), max_words).rstrip(" .")
    return f"“{body}”"


def plain(text: str) -> str:
    """``text`` as a model should read it: markup and reference numbers removed."""
    return " ".join(_MARKER.sub(" ", clean_sentence(text, ReferenceBook())).split())


def comparable(text: str) -> str:
    """Lower-case words only: how a claim and a span are compared for a verbatim match."""
    plain = _MARKER.sub(" ", clean_sentence(text, ReferenceBook()))
    plain = plain.replace("…", " ")
    return " ".join(re.findall(r"[\w'’]+", plain.lower()))
