"""HTML: readable text only, through BeautifulSoup.

Scripts, styles, navigation, headers, footers, forms and asides are dropped; block elements
become paragraph breaks (so a heading does not run into the next sentence) while inline elements
(links, emphasis) stay inside their sentence; a link's web address follows its text in brackets,
so it becomes an evidence reference (see :func:`_cited_link`). Title, author and date come from ``<title>``,
OpenGraph / ``article:*`` / ``citation_*`` meta tags and ``<time datetime>``.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from cns.ingestion.document import Document, make_document
from cns.ingestion.loaders.base import decode_text, require_text
from cns.ingestion.loaders.headers import find_byline, header_lines
from cns.ingestion.references import DOI_PATTERN, URL_PATTERN

_DROP = (
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "aside",
    "noscript",
    "form",
    "template",
    "svg",
    "iframe",
    "button",
)
_BLOCKS = (
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "table",
    "tr",
    "dd",
    "dt",
    "figcaption",
    "hr",
    "br",
    "title",
)
_META = {
    "title": ("og:title", "citation_title", "dc.title", "twitter:title"),
    "author": ("author", "article:author", "citation_author", "dc.creator", "byl"),
    "date": (
        "article:published_time",
        "citation_publication_date",
        "citation_date",
        "date",
        "dc.date",
        "pubdate",
    ),
    "url": ("og:url", "citation_doi"),
}
_SKIP = frozenset((*_DROP, "head"))
_ABSOLUTE = re.compile(r"https?://[^\s<>\"]+\Z", re.IGNORECASE)
_MAX_LINK_CHARS = 500
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n\s*")


def _meta_values(soup: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = (tag.get("name") or tag.get("property") or "").strip().lower()
        content = (tag.get("content") or "").strip()
        if key and content and key not in found:
            found[key] = content
    return found


def _metadata(soup: Any) -> dict[str, Any]:
    metas = _meta_values(soup)
    result: dict[str, Any] = {}
    for field_name, keys in _META.items():
        value = next((metas[k] for k in keys if k in metas), None)
        if value:
            result[field_name] = value
    if "title" not in result and soup.title and soup.title.get_text(strip=True):
        result["title"] = soup.title.get_text(strip=True)
    if "date" not in result:
        time_tag = soup.find("time", attrs={"datetime": True})
        if time_tag is not None:
            result["date"] = str(time_tag["datetime"])
    canonical = soup.find("link", rel="canonical")
    if "url" not in result and canonical is not None and canonical.get("href"):
        result["url"] = str(canonical["href"])
    return result


def _cited_link(anchor: Any) -> str | None:
    """The web address a link points to, when its visible text does not already show one.

    A link's target is a reference the text rests on, but only the label survives as text; the
    address is kept in brackets after it, where the citation reader turns it into an evidence item
    and the statement cleaner removes it from the hypothesis and claims. Relative links (site
    navigation) and links whose label is itself a URL or DOI add nothing.
    """
    href = anchor.get("href")
    if not isinstance(href, str) or len(href) > _MAX_LINK_CHARS:
        return None
    href = href.strip()
    if not _ABSOLUTE.match(href):
        return None
    label = anchor.get_text(" ")
    if URL_PATTERN.search(label) or DOI_PATTERN.search(label):
        return None
    return href


def _readable_strings(soup: Any) -> list[str]:
    """The page's text in document order: dropped elements and ``<head>`` skipped, ``<br>`` as a
    line break, block elements wrapped in blank lines.

    One iterative walk over the parsed tree, never a tree edit: inserting the breaks as nodes
    (``insert_before``) re-walks the subtree of every element, which made a 40 KB page of nested
    ``<div>`` take seconds and a 500 KB one many minutes (found by fuzzing, issue 8).
    """
    from bs4.element import CData, NavigableString, Tag

    parts: list[str] = []
    stack: list[Any] = [soup]
    while stack:
        node = stack.pop()
        if type(node) is str:  # a break queued to follow a block element's children
            parts.append(node)
        elif type(node) in (NavigableString, CData):  # text, not comments, doctypes or scripts
            parts.append(str(node))
        elif isinstance(node, Tag) and node.name not in _SKIP:
            if node.name == "br":
                parts.append("\n")  # a line break inside a paragraph, not a new paragraph
                continue
            block = node.name in _BLOCKS
            if block:
                parts.append("\n\n")
                stack.append("\n\n")
            elif node.name == "a" and (link := _cited_link(node)) is not None:
                stack.append(f" ({link})")  # after the link text: the reference, not the markup
            stack.extend(reversed(node.contents))
    return parts


def html_to_text(html: str) -> tuple[dict[str, Any], str]:
    """``(metadata, readable text)`` of an HTML page; paragraphs separated by blank lines."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    # bs4 warns when markup starts like XML (XHTML files, which are meant for this parser) or looks
    # like a URL or file name (a one-line upload): advice for developers, noise for documents.
    # (catch_warnings is process-wide; a race between threads only changes which warnings show.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    metadata = _metadata(soup)
    raw = "".join(_readable_strings(soup))
    lines = [_SPACES.sub(" ", line).strip() for line in raw.split("\n")]
    text = _BLANKS.sub("\n\n", "\n".join(lines)).strip()
    return metadata, text


def load_html(data: bytes, path: str | Path, metadata: dict[str, Any] | None = None) -> list[Document]:
    found, text = html_to_text(decode_text(data, path))
    text = require_text(text, path)
    if "author" not in found:
        byline = find_byline(header_lines(text))
        if byline:
            found["author"] = byline
    return [make_document(text, str(path), {**found, **(metadata or {}), "format": "html"})]
