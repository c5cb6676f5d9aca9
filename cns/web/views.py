"""What each page shows, read from the store: plain data for the templates, no markup here.

Pages read through the same store methods and service functions as the API and the CLI
(:mod:`cns.services.queries`, :mod:`cns.services.lookup`, :func:`~cns.synthesis.view.synthesis_view`),
so a number on a page is the number ``GET /pairs`` or ``cns show`` gives. Text from documents is
passed to the templates as plain strings: Jinja2's autoescape turns it into text, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cns.core.records import SNOQuery
from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError
from cns.report.html import file_label
from cns.report.plots import reasoning_graph_svg
from cns.services.jobs import job_view
from cns.services.queries import list_snos
from cns.store.sql import SQLStore

PAGE_SIZE = 25
#: a gap between two spans this short is shown as a space (it is the space between sentences)
SMALL_GAP = 2
__all__ = ["PAGE_SIZE", "NarrativeFilter", "Paged", "file_label", "graph_svg"]


@dataclass(frozen=True)
class NarrativeFilter:
    """The narratives list's filters: file-name text, status, lowest trust, date range, page."""

    q: str = ""
    status: str = ""
    min_trust: float | None = None
    since: date | None = None
    until: date | None = None
    kind: str = ""  # "", "documents" or "syntheses"
    page: int = 1

    def query(self) -> SNOQuery:
        """The filters the store applies (the same in SQLite, PostgreSQL and the in-memory store)."""
        start = None if self.since is None else datetime.combine(self.since, time.min, UTC)
        end = None if self.until is None else datetime.combine(self.until + timedelta(days=1), time.min, UTC)
        kind = {"documents": True, "syntheses": False}.get(self.kind)
        return SNOQuery(self.q or None, start, end, kind, newest_first=True)


@dataclass(frozen=True)
class Paged:
    items: list[Any]
    total: int
    page: int
    pages: int


def narratives(store: SQLStore, flt: NarrativeFilter) -> Paged:
    """One page of the narratives matching ``flt``, newest first (the store filters and counts)."""
    status = flt.status or None
    first = list_snos(store, limit=1, offset=0, status=status, min_trust=flt.min_trust, query=flt.query())
    pages = max(1, (first.total + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(1, flt.page), pages)
    found = list_snos(
        store, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, status=status, min_trust=flt.min_trust,
        query=flt.query(),
    )  # fmt: skip
    items = [StructuredNarrativeObject.from_dict(d) for d in found.items]
    return Paged(items, found.total, page, pages)


@dataclass(frozen=True)
class Segment:
    """A run of document text, highlighted (``mark`` = the evidence/claim label) or not."""

    text: str
    mark: str = ""
    anchor: str = ""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    label: str


def narrative_spans(sno: StructuredNarrativeObject) -> list[Span]:
    """Every evidence item's and claim's source span (character offsets into the document).

    An evidence item keeps its sentence as the document has it; a claim's text was cleaned of
    markup, so where both cover one span the document's own text is shown, labelled with both.
    """
    spans: dict[tuple[int, int], Span] = {}
    for item in sno.evidence_set:
        if item.span is not None:
            start, end = int(item.span[0]), int(item.span[1])
            spans.setdefault((start, end), Span(start, end, item.content, item.key))
    for claim in sno.claims():
        span = claim.metadata.get("span")
        if isinstance(span, list | tuple) and len(span) == 2:
            start, end = int(span[0]), int(span[1])
            label = "hypothesis" if claim.claim_id == "root" else claim.claim_id
            known = spans.get((start, end))
            spans[(start, end)] = (
                Span(start, end, known.text, f"{label} · {known.label}")
                if known is not None
                else Span(start, end, claim.content, label)
            )
    return sorted(spans.values(), key=lambda s: (s.start, s.end))


def document_segments(spans: list[Span], text: str | None = None) -> list[Segment]:
    """The document with each source span highlighted at its place.

    With the document's whole ``text`` (stored since the store kept texts) every character is
    shown and the spans are cut out of it by their offsets; without it (an older document, a
    synthesis), or when a span does not fit inside it, the spans alone, the gaps between them
    marked with their length.
    """
    if text is not None and fits(spans, text):
        return _in_text(spans, text)
    segments: list[Segment] = []
    position = 0
    for span in spans:
        if span.start < position:  # overlapping spans: the first one already shows this text
            continue
        gap = span.start - position
        if gap > SMALL_GAP:
            segments.append(Segment(f" […{gap} characters…] "))
        elif gap > 0:
            segments.append(Segment(" "))
        segments.append(Segment(span.text, span.label, f"span-{span.start}-{span.end}"))
        position = span.end
    return segments


def fits(spans: list[Span], text: str) -> bool:
    """Whether every span lies inside ``text`` (a text that does not belong to the spans would not)."""
    return all(0 <= s.start <= s.end <= len(text) for s in spans)


def _in_text(spans: list[Span], text: str) -> list[Segment]:
    """``text`` cut at the spans: plain runs between them, each span marked (the first of
    overlapping spans wins, as in the spans-only view)."""
    segments: list[Segment] = []
    position = 0
    for span in spans:
        if span.start < position:
            continue
        if span.start > position:
            segments.append(Segment(text[position : span.start]))
        segments.append(Segment(text[span.start : span.end], span.label, f"span-{span.start}-{span.end}"))
        position = span.end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def document_text(store: SQLStore, sno: StructuredNarrativeObject) -> str | None:
    """The whole text of the document ``sno`` was extracted from, when the store has it."""
    document_id = sno.metadata.get("document_id")
    return store.documents.document_text(str(document_id)) if document_id else None


def recent_jobs(store: SQLStore, limit: int = 10) -> list[dict[str, Any]]:
    return [job_view(job) for job in store.list_jobs(limit=limit, newest_first=True)]


def labels(store: SQLStore, sno_ids: list[str]) -> dict[str, str]:
    """File labels of the SNOs named (an id that is gone shows its first characters)."""
    out = {}
    for sno_id in sno_ids:
        try:
            out[sno_id] = file_label(store.get(sno_id))
        except SNONotFoundError:
            out[sno_id] = f"{sno_id[:12]} (deleted)"
    return out


@dataclass
class PairSide:
    sno: StructuredNarrativeObject
    label: str


@dataclass
class PairPage:
    pair: dict[str, Any]
    a: PairSide | None
    b: PairSide | None
    attempts: list[dict[str, Any]] = field(default_factory=list)


def pair_page(store: SQLStore, pair_id: str) -> PairPage | None:
    record = store.get_pair(pair_id)
    if record is None:
        return None
    sides: list[PairSide | None] = []
    for sno_id in (record.sno_a, record.sno_b):
        try:
            sno = store.get(sno_id)
            sides.append(PairSide(sno, file_label(sno)))
        except SNONotFoundError:
            sides.append(None)
    attempts = [
        {
            "attempt_no": a.attempt_no,
            "accepted": a.accepted,
            "sno_id": a.result_sno_id,
            "reasons": [str(r) for r in a.reasons],
            "finished_at": a.finished_at,
            "cooldown_until": a.cooldown_until,
        }
        for a in reversed(store.list_attempts(pair_id))
    ]
    return PairPage(record.to_dict(), sides[0], sides[1], attempts)


def iso_day(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:16].replace("T", " ")
    return value.strftime("%Y-%m-%d %H:%M")


_GRAPHS: dict[str, str] = {}
_GRAPHS_KEPT = 256


def graph_svg(sno: StructuredNarrativeObject) -> str:
    """The reasoning graph as inline SVG (the report's drawing), kept per graph content."""
    key = sno.content_hash()
    svg = _GRAPHS.get(key)
    if svg is None:
        svg = reasoning_graph_svg(sno)
        if len(_GRAPHS) >= _GRAPHS_KEPT:
            _GRAPHS.pop(next(iter(_GRAPHS)))
        _GRAPHS[key] = svg
    return svg
