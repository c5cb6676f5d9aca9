"""Strip link and markup syntax from a sentence before it becomes a hypothesis or a claim.

Why: documents pasted from wikis, Markdown or web pages carry ``[[http://…]]`` links, ``[label](url)``
links, bare URLs, HTML tags and emphasis markers inside their sentences.  Such syntax in a central
hypothesis is noise for every later judgement (the NLI model, embeddings, the report) and reads
badly.  The citation itself is not lost: :mod:`cns.ingestion.citations` reads the *raw* sentence,
so a URL still becomes an evidence item of the SNO; only the statement's wording is cleaned.
"""

from __future__ import annotations

import re

from cns.ingestion.references import URL_PATTERN

_WIKI_LINK = re.compile(r"\[\[([^\[\]|]*?)(?:\|([^\[\]]*))?\]\]")
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\((?:[^()\s]+)(?:\s+\"[^\"]*\")?\)")
_BRACKET_URL = re.compile(r"\[\s*(?:https?://|www\.)[^\]\s]*\s*([^\]]*)\]", re.IGNORECASE)
_ANGLE_URL = re.compile(r"<(?:https?://|www\.)[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`+)(?=\S)(.+?)(?<=\S)\1")
_LEADING_MARK = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•]\s+|\d{1,3}[.)]\s+)+")
_EMPTY_BRACKETS = re.compile(r"\(\s*(?:(?:see|cf\.?|via|source:?)\s*)?[,;]?\s*\)|\[\s*\]", re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")


def _is_url(text: str) -> bool:
    return URL_PATTERN.fullmatch(text.strip()) is not None


def _wiki(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if label is not None:
        return label if not _is_url(label) else ""
    return "" if _is_url(target) else target


def strip_markup(text: str) -> str:
    """``text`` without link/markup syntax.  Citation markers (``[3]``, ``(Smith, 2001)``) stay:
    they are readable and tell the reader the statement is sourced.

    Labels of links are kept (``[[Page|the page]]`` → ``the page``); a link that is only a URL
    disappears.  The result has single spaces and no space before punctuation.
    """
    out = _WIKI_LINK.sub(_wiki, text)
    out = _MD_LINK.sub(lambda m: m.group(1), out)
    out = _BRACKET_URL.sub(lambda m: m.group(1), out)
    out = _ANGLE_URL.sub("", out)
    out = URL_PATTERN.sub("", out)
    out = _HTML_TAG.sub("", out)
    out = _EMPHASIS.sub(lambda m: m.group(2), out)
    out = _LEADING_MARK.sub("", out)
    out = _EMPTY_BRACKETS.sub("", out)
    out = _SPACE_BEFORE_PUNCT.sub(r"\1", re.sub(r"\s+", " ", out)).strip()
    return out
