"""Metadata found in the text itself: a byline ("By Ada Lovelace"), a date, a title line.

Plain text and Markdown have no meta tags, but articles usually open with a title, a byline and
a date; reading them here lets every SNO carry author and date when the document states them.
"""

from __future__ import annotations

import re
from typing import Any

_BYLINE = re.compile(
    r"^\s*(?:written\s+)?by[:\s]+([A-Z][\w.'\-]*(?:[ \t]+(?:[A-Z][\w.'\-]*|and|&|de|van|von))*)",
    re.IGNORECASE,
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"\b(\d{{4}}-\d{{2}}-\d{{2}}|(?:{_MONTHS})\s+\d{{1,2}},\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}})\b"
)
_HEADER_LINES = 6


def header_lines(text: str) -> list[str]:
    """The first few non-empty lines, where titles, bylines and dates live."""
    return [line.strip() for line in text.splitlines() if line.strip()][:_HEADER_LINES]


def find_byline(lines: list[str]) -> str | None:
    """The author named by a "By X" line near the top (bounded so prose "by far" is not a name)."""
    for line in lines:
        match = _BYLINE.match(line)
        if match and len(line) <= 120:
            name = match.group(1).strip(" .,")
            if name and name[0].isupper() and len(name.split()) <= 8:
                return name
    return None


def find_date(lines: list[str]) -> str | None:
    for line in lines:
        match = _DATE.search(line)
        if match and len(line) <= 120:
            return match.group(1)
    return None


def find_title_line(lines: list[str]) -> str | None:
    """A short first line without sentence-final punctuation reads as a title."""
    if not lines:
        return None
    first = lines[0].lstrip("#").strip()
    if 0 < len(first) <= 150 and first[-1] not in ".!?;:,。！？；：" and not _BYLINE.match(first):
        return first
    return None


def text_header_metadata(text: str) -> dict[str, Any]:
    """Title, author and date read from the top of a plain-text document (absent when not found)."""
    lines = header_lines(text)
    found = {"title": find_title_line(lines), "author": find_byline(lines), "date": find_date(lines)}
    return {k: v for k, v in found.items() if v}
