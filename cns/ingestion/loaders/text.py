"""Plain text and Markdown.

Markdown is rendered with ``markdown-it-py`` (CommonMark) and reduced to readable text through the
HTML path, so emphasis, links, code fences and tables do not leak syntax into sentences; the
YAML front matter and the first heading supply title, author and date.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from cns.ingestion.document import Document, make_document
from cns.ingestion.loaders.base import decode_text, require_text
from cns.ingestion.loaders.headers import find_byline, find_date, header_lines, text_header_metadata

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def load_txt(data: bytes, path: str | Path, metadata: dict[str, Any] | None = None) -> list[Document]:
    text = require_text(decode_text(data, path), path)
    found = text_header_metadata(text)
    return [make_document(text, str(path), {**found, **(metadata or {}), "format": "txt"})]


class _NoAliasLoader(yaml.SafeLoader):
    """``SafeLoader`` without anchors/aliases: a few hundred bytes of nested aliases ("billion
    laughs") expand to gigabytes once a value is turned into text, and front matter never needs them.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed in front matter", mark)
        return super().compose_node(parent, index)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (``---`` … ``---``) as a dict, and the body after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.load(match.group(1), Loader=_NoAliasLoader)  # a SafeLoader subclass
    except (yaml.YAMLError, RecursionError):
        return {}, text  # not front matter after all (a horizontal rule, aliases, absurd nesting)
    if not isinstance(data, dict):
        return {}, text
    return {str(k).lower(): v for k, v in data.items()}, text[match.end() :]


def markdown_to_text(markdown: str) -> str:
    """Readable text of a Markdown body (blocks separated by blank lines)."""
    from markdown_it import MarkdownIt

    from cns.ingestion.loaders.html import html_to_text

    html = MarkdownIt("commonmark").enable("table").render(markdown)
    return html_to_text(html)[1]


def _stringify(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or None
    return str(value)


def load_markdown(data: bytes, path: str | Path, metadata: dict[str, Any] | None = None) -> list[Document]:
    raw = decode_text(data, path)
    front, body = split_front_matter(raw)
    heading = _HEADING.search(body)
    text = require_text(markdown_to_text(body), path)
    lines = header_lines(text)
    found = {
        "title": _stringify(front.get("title")) or (heading.group(1).strip() if heading else None),
        "author": _stringify(front.get("author") or front.get("authors")) or find_byline(lines),
        "date": _stringify(front.get("date")) or find_date(lines),
        "url": _stringify(front.get("url")),
    }
    return [make_document(text, str(path), {**found, **(metadata or {}), "format": "markdown"})]
