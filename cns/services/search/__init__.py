"""Asking the corpus a question: ``search(runtime, question) -> SearchResult``.

Used by ``cns search``, ``GET /search`` and the Ask page of the web interface, so all three find
the same narratives, claims, pairs and disagreements, and answer (with an LLM) the same way.
"""

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
