"""Citations inside sentences, resolved to canonical source ids.

Recognised: DOIs (``doi:10.1000/x``, ``https://doi.org/10.1000/x``), arXiv ids, URLs, numbered
references ``[3]`` / ``[1, 4-6]`` and author-year ``(Wegener, 1912)`` / ``Wegener (1912)`` /
``(Smith et al., 2001; Jones 2003)``. Numbered and author-year citations are resolved against
the reference list when the document has one; unresolved author-year citations become
``cite:<surname>:<year>``, which is still the same key in every document citing that work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cns.core.evidence import canonical_key
from cns.ingestion.references import ARXIV_PATTERN, DOI_PATTERN, URL_PATTERN, ReferenceEntry

_NUMBERED = re.compile(r"\[(\d{1,3}(?:\s*[-–,]\s*\d{1,3})*)\]")
_YEAR = r"((?:1[5-9]|20)\d{2})[a-z]?"
_NAME = r"([A-Z][A-Za-z'’\-]+)(?:\s+et\s+al\.?|\s+(?:and|&)\s+[A-Z][A-Za-z'’\-]+)?"
_PAREN = re.compile(r"\(([^()]*?\b(?:1[5-9]|20)\d{2}[a-z]?[^()]*)\)")
_AUTHOR_YEAR = re.compile(_NAME + r",?\s+" + _YEAR)
_NARRATIVE = re.compile(r"\b" + _NAME + r"\s+\(" + _YEAR + r"\)")
_MAX_RANGE = 50


@dataclass(frozen=True)
class Citation:
    """A citation marker found in a sentence and the source id it resolves to."""

    marker: str
    kind: str  # doi | arxiv | url | numbered | author_year
    source_id: str
    resolved: bool
    reference: ReferenceEntry | None = None


def _expand_numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", group):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            if low <= high and high - low <= _MAX_RANGE:
                numbers.extend(range(low, high + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


class CitationResolver:
    """Finds citations in text and resolves them against one document's reference list."""

    def __init__(self, references: list[ReferenceEntry], document_id: str) -> None:
        self.references = references
        self.document_id = document_id
        self._by_number = {r.number: r for r in references if r.number is not None}

    def _by_author_year(self, surname: str, year: str) -> ReferenceEntry | None:
        name = surname.lower()
        for ref in self.references:
            if ref.year == year and name in ref.surnames:
                return ref
        return None

    def _identifiers(self, text: str) -> list[Citation]:
        found: list[Citation] = []
        taken: list[tuple[int, int]] = []
        for kind, pattern in (("doi", DOI_PATTERN), ("arxiv", ARXIV_PATTERN), ("url", URL_PATTERN)):
            for match in pattern.finditer(text):
                if any(s <= match.start() < e for s, e in taken):
                    continue  # a doi.org URL already read as a DOI
                taken.append(match.span())
                found.append(Citation(match.group(0), kind, match.group(0), True))
        return found

    def _numbered(self, text: str) -> list[Citation]:
        found = []
        for match in _NUMBERED.finditer(text):
            for number in _expand_numbers(match.group(1)):
                ref = self._by_number.get(number)
                if ref is not None:
                    found.append(Citation(match.group(0), "numbered", ref.source_id, True, ref))
                else:
                    local = f"doc:{self.document_id[:16]}#ref-{number}"
                    found.append(Citation(match.group(0), "numbered", local, False))
        return found

    def _author_year(self, text: str) -> list[Citation]:
        pairs: list[tuple[str, str, str]] = []
        for paren in _PAREN.finditer(text):
            for part in paren.group(1).split(";"):
                match = _AUTHOR_YEAR.search(part)
                if match:
                    pairs.append((match.group(0), match.group(1), match.group(2)))
        for match in _NARRATIVE.finditer(text):
            pairs.append((match.group(0), match.group(1), match.group(2)))
        found = []
        for marker, surname, year in dict.fromkeys(pairs):
            ref = self._by_author_year(surname, year)
            if ref is not None:
                found.append(Citation(marker, "author_year", ref.source_id, True, ref))
            else:
                found.append(Citation(marker, "author_year", f"cite:{surname.lower()}:{year}", False))
        return found

    def find(self, text: str) -> list[Citation]:
        """All citations in ``text``, one per distinct source id, in a stable order."""
        seen: set[str] = set()
        result = []
        for citation in [*self._identifiers(text), *self._numbered(text), *self._author_year(text)]:
            key = canonical_key(citation.source_id, citation.marker)
            if key not in seen:
                seen.add(key)
                result.append(citation)
        return result
