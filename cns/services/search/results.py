"""What a question to the corpus returns (``cns search``, ``GET /search``, the Ask page).

Plain dataclasses, JSON-safe through :meth:`SearchResult.to_dict` (FastAPI serialises them as
they are): ids and file names everywhere, never an embedding. Every claim carries the number an
answer cites it by (``[1]``, ``[2]`` …) and the evidence spans it rests on, so a reader can check
each sentence of the answer against the text it came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class EvidenceSpan:
    """A passage a claim rests on: its text, and where it is (file, document, character range)."""

    text: str
    file: str | None
    document_id: str | None
    start: int | None
    end: int | None
    #: the work the passage cites (DOI, URL, reference) when it is a citation; None for the
    #: document's own sentence
    cites: str | None = None


@dataclass(frozen=True)
class NarrativeHit:
    """A narrative whose central hypothesis is near the question (``score`` = cosine similarity)."""

    sno_id: str
    hypothesis: str
    score: float
    file: str | None
    document_id: str | None
    status: str
    trust: float | None
    synthesis: bool
    archive_reason: str | None = None


@dataclass(frozen=True)
class ClaimHit:
    """A claim near the question, with the evidence spans it rests on; ``number`` is its citation."""

    number: int
    sno_id: str
    claim_id: str
    text: str
    score: float
    file: str | None
    document_id: str | None
    #: the claim's own character range in its document, when extraction recorded one
    start: int | None
    end: int | None
    hypothesis: str
    status: str
    evidence: list[EvidenceSpan] = field(default_factory=list)


@dataclass(frozen=True)
class PairHit:
    """A recorded chiral pair with at least one side among the narratives found."""

    pair_id: str
    sno_a: str
    sno_b: str
    file_a: str | None
    file_b: str | None
    hypothesis_a: str
    hypothesis_b: str
    chirality: float
    entanglement: float
    potential: float
    opposition: float
    source: str
    conflict_points: list[dict[str, Any]]
    #: both sides are among the narratives found (the pair is about the question on both sides)
    both_found: bool


@dataclass(frozen=True)
class Disagreement:
    """Two narratives found for the question that oppose each other, and why that is said."""

    sno_a: str
    sno_b: str
    file_a: str | None
    file_b: str | None
    hypothesis_a: str
    hypothesis_b: str
    opposition: float
    #: the recorded pair, when the pair search found these two (None: judged for this question)
    pair_id: str | None
    why: str


@dataclass(frozen=True)
class Answer:
    """A short answer written by the LLM from the claims found, citing them by number."""

    text: str
    cited: list[int]
    model: str


@dataclass(frozen=True)
class SearchResult:
    """Everything found for ``question``; ``answer`` is None offline, and ``answer_note`` says why."""

    question: str
    narratives: list[NarrativeHit]
    claims: list[ClaimHit]
    pairs: list[PairHit]
    disagreements: list[Disagreement]
    answer: Answer | None
    #: one sentence about the answer: why there is none, or what it rests on
    answer_note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
