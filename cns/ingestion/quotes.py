"""Find an LLM's quote in the document it claims to quote.

LLMs re-space, re-case and lightly paraphrase quotes, and sometimes invent them. A quote is
accepted when it is found exactly, or equal after normalising whitespace and case, or when a
window of 1–3 consecutive sentences matches it with a ``difflib`` ratio ≥ 0.9. The returned span
is always a span of the *document*, so the evidence content is the document's own words.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from cns.ingestion.segment import Sentence

FUZZY_RATIO = 0.9
_MAX_WINDOW = 3


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def find_quote(
    text: str, quote: str, sentences: list[Sentence], *, min_ratio: float = FUZZY_RATIO
) -> tuple[int, int] | None:
    """``(start, end)`` of ``quote`` in ``text``, or ``None`` when it is not (nearly) there."""
    quote = quote.strip().strip("\"'“”‘’").strip()
    if len(quote) < 3:
        return None
    pos = text.find(quote)
    if pos >= 0:
        return pos, pos + len(quote)
    pattern = r"\s+".join(re.escape(tok) for tok in quote.split())
    match = re.search(pattern, text, re.IGNORECASE)
    if match:
        return match.start(), match.end()
    target = _normalised(quote)
    best: tuple[float, int, int] | None = None
    for i in range(len(sentences)):
        for width in range(1, _MAX_WINDOW + 1):
            if i + width > len(sentences):
                break
            start, end = sentences[i].start, sentences[i + width - 1].end
            candidate = _normalised(text[start:end])
            if abs(len(candidate) - len(target)) > 0.2 * len(target):
                continue  # cannot reach the ratio; skip the expensive comparison
            ratio = SequenceMatcher(None, candidate, target, autojunk=False).ratio()
            if ratio >= min_ratio and (best is None or ratio > best[0]):
                best = (ratio, start, end)
    return (best[1], best[2]) if best else None
