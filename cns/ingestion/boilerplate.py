"""Lines that are part of a page but not of the argument: titles, bylines, site furniture.

Why a separate check: the heading detector in :mod:`cns.ingestion.segment` only knows short
unpunctuated lines, but real documents open with long titles such as "Electronic tags – the case
against (Debatewise)", end with "Retrieved from …" or carry "Posted by … on …".  Such a line can
look central (it names the topic) and was chosen as the central hypothesis.  These rules reject
it before scoring; they never reject a line that ends like a sentence and states something.
"""

from __future__ import annotations

import re

from cns.core.ids import normalize_text

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_BOILERPLATE = re.compile(
    r"(?:^|\s)(?:"
    r"the\s+case\s+(?:for|against)\b[^.!?]*$"
    r"|\((?:[\w\s.\-]*(?:debatewise|wikipedia|idebate|procon|\.com|\.org|\.net))\)\s*$"
    r"|(?:posted|published|updated|written|last\s+(?:modified|updated|edited))\s+(?:on|by|at)\b"
    r"|copyright\b|©|all\s+rights\s+reserved"
    r"|click\s+here|read\s+more\b|sign\s+up\b|subscribe\s+(?:to|now)|share\s+this|follow\s+us"
    r"|retrieved\s+(?:on|from)\b|accessed\s+on\b|table\s+of\s+contents"
    r"|^(?:photo|image|figure|fig\.|source|caption|credit|tags?|categor(?:y|ies))\s*:"
    r")",
    re.IGNORECASE,
)
_SENTENCE_END = tuple('.!?。．｡！？"”’')


def word_count(text: str) -> int:
    """Words of a sentence; CJK text (no spaces) counts one word per two characters."""
    cjk = len(_CJK.findall(text))
    return len(_WORD.findall(_CJK.sub(" ", text))) + (cjk + 1) // 2


def _same_text(a: str, b: str) -> bool:
    def bare(s: str) -> str:
        return re.sub(r"[\W_]+", " ", normalize_text(s).casefold()).strip()

    return bool(bare(a)) and bare(a) == bare(b)


def is_boilerplate(text: str, *, title: str | None = None, standalone: bool = False) -> bool:
    """True for the title line, page furniture, and unpunctuated standalone lines.

    ``standalone`` means the sentence is a whole line of its own paragraph (a title or a label
    when it does not end like a sentence).
    """
    stripped = text.strip()
    if not stripped:
        return True
    if title and _same_text(stripped, title):
        return True
    if standalone and not stripped.endswith(_SENTENCE_END):
        return True
    return _BOILERPLATE.search(stripped) is not None


def is_standalone_line(document_text: str, start: int, end: int) -> bool:
    """The span ``[start, end)`` is a whole line: only whitespace between it and the line breaks."""
    before = document_text.rfind("\n", 0, start)
    after = document_text.find("\n", end)
    head = document_text[before + 1 : start]
    tail = document_text[end : after if after >= 0 else len(document_text)]
    return not head.strip() and not tail.strip()
