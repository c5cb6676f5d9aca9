"""The document's reference list: where it starts, its entries, and each entry's canonical id.

Numbered (``[3] …``, ``3. …``) and author-year lists are both read. An entry's canonical source
id is its DOI, arXiv id or URL when it has one (so two documents citing the same paper share an
evidence key: docs/design-notes.md#evidence-identity), otherwise a hash of the entry text without its number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cns.core.evidence import canonical_key
from cns.core.ids import normalize_text, sha256_hex

_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\d+\.?[ \t]+)?(references|bibliography|works cited|literature cited|"
    r"reference list|sources|citations|参考文献|参考資料|引用文献|参考书目|參考書目)[ \t]*[:：]?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_NUMBERED = re.compile(r"^[ \t]*(?:\[(\d{1,3})\]|(\d{1,3})[.)])[ \t]+")
DOI_PATTERN = re.compile(r"(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?\b10\.\d{4,9}/[^\s,;\]\)>\"]+", re.I)
#: a web address; it ends at whitespace, a quote, a closing bracket or ``|`` (the label separator
#: of ``[[http://…|label]]`` wiki links)
URL_PATTERN = re.compile(r"(?:https?://|www\.)[^\s<>\"\]\)|]+", re.IGNORECASE)
ARXIV_PATTERN = re.compile(r"arxiv:\s*\d{4}\.\d{4,5}(?:v\d+)?", re.IGNORECASE)
YEAR = re.compile(r"\b((?:1[5-9]|20)\d{2})[a-z]?\b")
_SURNAME = re.compile(r"[A-Z][A-Za-z'’\-]+")


@dataclass(frozen=True)
class ReferenceEntry:
    """One entry of the reference list with its span in the document."""

    text: str
    start: int
    end: int
    number: int | None
    source_id: str
    has_identifier: bool
    surnames: frozenset[str] = field(default_factory=frozenset)
    year: str | None = None


def identifier_in(text: str) -> str | None:
    """The first DOI, arXiv id or URL in ``text`` (DOIs win: they are the most stable)."""
    for pattern in (DOI_PATTERN, ARXIV_PATTERN, URL_PATTERN):
        match = pattern.search(text)
        if match:
            return match.group(0)
    return None


def find_reference_section(text: str) -> int | None:
    """Offset where the last "References"/"Bibliography" heading starts, or ``None``."""
    matches = list(_HEADING.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    return last.start() if last.start() > len(text) * 0.3 or len(matches) == 1 else None


def _entry_lines(text: str, start: int) -> list[tuple[int, int, int | None]]:
    """``(start, end, number)`` per entry; wrapped continuation lines join the entry above."""
    entries: list[list[int | None]] = []
    numbered = any(_NUMBERED.match(line) for line in text[start:].split("\n"))
    pos = start
    prev_blank = True
    for line in text[start:].split("\n"):
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        stripped = line.strip()
        if not stripped:
            prev_blank = True
            continue
        match = _NUMBERED.match(line)
        new_entry = bool(match) if numbered else (prev_blank or stripped[0].isupper() or not entries)
        if new_entry or not entries:
            number = int(match.group(1) or match.group(2)) if match else None
            entries.append([line_start + (len(line) - len(line.lstrip())), line_end, number])
        else:
            entries[-1][1] = line_end
        prev_blank = False
    return [(int(s or 0), int(e or 0), n) for s, e, n in entries]


def parse_references(text: str, section_start: int) -> list[ReferenceEntry]:
    """Entries below the heading at ``section_start`` (the heading line itself is skipped)."""
    body_start = text.find("\n", section_start)
    if body_start < 0:
        return []
    entries = []
    for start, end, number in _entry_lines(text, body_start + 1):
        entry = text[start:end].strip()
        if len(entry) < 8:
            continue
        bare = _NUMBERED.sub("", entry)
        identifier = identifier_in(bare)
        source_id = identifier or "ref:" + sha256_hex(normalize_text(bare).lower())[:24]
        year = YEAR.search(bare)
        head = bare.split("(")[0].split(".")[0] if "(" in bare[:80] else bare[:80]
        entries.append(
            ReferenceEntry(
                text=entry,
                start=start,
                end=start + len(entry),
                number=number,
                source_id=source_id,
                has_identifier=identifier is not None,
                surnames=frozenset(s.lower() for s in _SURNAME.findall(head)),
                year=year.group(1) if year else None,
            )
        )
    return entries


def canonical_source(entry: ReferenceEntry) -> str:
    """The evidence key an entry resolves to (for tests and reports)."""
    return canonical_key(entry.source_id, entry.text)
