"""Asking the corpus a question: ``search(runtime, question) -> SearchResult``.

Used by ``cns search``, ``GET /search`` and the Ask page of the web interface, so all three find
the same narratives, claims, pairs and disagreements, and answer (with an LLM) the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.services.search.results import (
        Answer,
        ClaimHit,
        Disagreement,
        EvidenceSpan,
        NarrativeHit,
        PairHit,
        SearchResult,
    )
    from cns.services.search.service import MAX_QUESTION_CHARS, check_question, search


__all__ = [
    "MAX_QUESTION_CHARS",
    "Answer",
    "ClaimHit",
    "Disagreement",
    "EvidenceSpan",
    "NarrativeHit",
    "PairHit",
    "SearchResult",
    "check_question",
    "search",
]

_EXPORTS = {
    "Answer": "cns.services.search.results",
    "ClaimHit": "cns.services.search.results",
    "Disagreement": "cns.services.search.results",
    "EvidenceSpan": "cns.services.search.results",
    "NarrativeHit": "cns.services.search.results",
    "PairHit": "cns.services.search.results",
    "SearchResult": "cns.services.search.results",
    "MAX_QUESTION_CHARS": "cns.services.search.service",
    "check_question": "cns.services.search.service",
    "search": "cns.services.search.service",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
