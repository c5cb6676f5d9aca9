"""What an extractor returns, before it becomes an SNO: plain data, easy to test and to compare.

Both extractors (heuristic and LLM) produce an :class:`Extraction`; one builder turns it into a
:class:`~cns.core.sno.StructuredNarrativeObject`, so the graph rules (DAG, root as sink) and the
metadata are enforced in one place whichever extractor ran.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from cns.core.graph import RelationType

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from cns.core.evidence import EvidenceItem
    from cns.ingestion.document import Document


@dataclass
class ExtractedClaim:
    """A claim node-to-be; ``span`` locates its sentence in the document when known."""

    claim_id: str
    text: str
    claim_type: str = "supporting_claim"
    span: tuple[int, int] | None = None
    confidence: float = 1.0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtractedEdge:
    """premise → conclusion, with the reason it was drawn (``discourse:however``, ``nli``, …)."""

    source: str
    target: str
    relation: RelationType
    strength: float
    basis: str


@dataclass
class Extraction:
    """Hypothesis, claims, edges and evidence of one document, plus how they were found."""

    hypothesis: str
    claims: list[ExtractedClaim]
    edges: list[ExtractedEdge]
    evidence: list[EvidenceItem]
    grounding: dict[str, list[str]]
    extractor: str
    extractor_version: str
    hypothesis_span: tuple[int, int] | None = None
    hypothesis_vector: NDArray[np.float32] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


class Extractor(Protocol):
    """Turns a document into an :class:`Extraction` (raises ``IngestionError`` when it cannot)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def extract(self, document: Document) -> Extraction: ...


class StageTimer:
    """Wall-clock milliseconds per named stage, recorded into SNO metadata."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - start) * 1000.0
            self.timings[name] = round(self.timings.get(name, 0.0) + elapsed, 3)
