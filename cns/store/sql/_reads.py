"""Paged reads and aggregates (:class:`cns.ports.PagedReads`) for the API lists and the metrics.

The SNO repository's ``list`` returns every matching SNO; an HTTP list needs a page and a total,
and the metrics need aggregates that never load SNO JSON. Each is one or two SQL statements here,
in the store's read transaction — so a database outage is a :class:`~cns.errors.StoreError`
(HTTP 503) on ``GET /snos`` exactly as on ``GET /snos/{id}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, case, func, select

from cns.core.records import Page, PairRecord, SNOHead, SNOQuery, SynthesisRecord
from cns.store.sql._base import Database
from cns.store.sql._pairs import attempt_of, pair_record_of
from cns.store.sql.schema import AttemptRow, Document, JobRow, PairRow, SNORow, SNOTombstone


class SQLPagedReads:
    """Pages and aggregates on the shared :class:`~cns.store.sql._base.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def snos_page(
        self,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        min_trust: float | None = None,
        source: str | None = None,
        query: SNOQuery | None = None,
    ) -> Page[dict[str, Any]]:
        """SNO JSON documents, oldest first (newest first by ``query``), with the total matching count."""
        conditions: list[Any] = []
        if status is not None:
            conditions.append(SNORow.status == status)
        if min_trust is not None:
            conditions.append(SNORow.trust >= min_trust)
        if source is not None:
            conditions.append(SNORow.source == source)
        query = query or SNOQuery()
        if query.source_contains:
            conditions.append(
                func.lower(SNORow.source).contains(query.source_contains.lower(), autoescape=True)
            )
        if query.created_from is not None:
            conditions.append(SNORow.created_at >= query.created_from)
        if query.created_before is not None:
            conditions.append(SNORow.created_at < query.created_before)
        if query.with_document is not None:
            has = SNORow.document_id.is_not(None) if query.with_document else SNORow.document_id.is_(None)
            conditions.append(has)
        order = (
            (SNORow.created_at.desc(), SNORow.sno_id.desc())
            if query.newest_first
            else (SNORow.created_at, SNORow.sno_id)
        )
        rows = select(SNORow.data).where(*conditions).order_by(*order)
        count = select(func.count()).select_from(SNORow).where(*conditions)
        with self._db.reading("snos_page") as session:
            total = int(session.scalar(count) or 0)
            items = [dict(d) for d in session.scalars(rows.limit(limit).offset(offset))]
        return Page(items, total)

    def pairs_page(self, *, limit: int, offset: int, min_potential: float | None = None) -> Page[PairRecord]:
        """Stored chiral pairs, highest synthesis potential first."""
        conditions = [] if min_potential is None else [PairRow.potential >= min_potential]
        rows = select(PairRow).where(*conditions).order_by(PairRow.potential.desc(), PairRow.pair_id)
        count = select(func.count()).select_from(PairRow).where(*conditions)
        with self._db.reading("pairs_page") as session:
            total = int(session.scalar(count) or 0)
            items = [pair_record_of(r) for r in session.scalars(rows.limit(limit).offset(offset))]
        return Page(items, total)

    def syntheses_page(
        self, *, limit: int, offset: int, accepted: bool | None = None
    ) -> Page[SynthesisRecord]:
        """Finished synthesis attempts (newest first) with the two SNOs of their pair.

        ``accepted`` filters on the stored value: true (admitted), false (rejected) — NULL, an
        attempt that could not run, matches neither.
        """
        conditions = [AttemptRow.finished_at.is_not(None)]
        if accepted is not None:
            conditions.append(AttemptRow.accepted.is_(accepted))
        rows = (
            select(AttemptRow, PairRow.sno_a, PairRow.sno_b)
            .join(PairRow, PairRow.pair_id == AttemptRow.pair_id)
            .where(*conditions)
            .order_by(AttemptRow.finished_at.desc(), AttemptRow.pair_id, AttemptRow.attempt_no)
        )
        count = select(func.count()).select_from(AttemptRow).where(*conditions)
        with self._db.reading("syntheses_page") as session:
            total = int(session.scalar(count) or 0)
            items = [
                SynthesisRecord(attempt_of(a), sno_a, sno_b)
                for a, sno_a, sno_b in session.execute(rows.limit(limit).offset(offset))
            ]
        return Page(items, total)

    def sno_heads(self, sno_ids: Sequence[str]) -> dict[str, SNOHead]:
        """Source and hypothesis of each stored SNO named: one query, the hypothesis read out of
        the JSON by the database (not the whole document, with its vector, per SNO)."""
        if not sno_ids:
            return {}
        hypothesis = SNORow.data["central_hypothesis"].as_string()
        stmt = select(SNORow.sno_id, SNORow.source, hypothesis).where(SNORow.sno_id.in_(list(sno_ids)))
        with self._db.reading("sno_heads") as session:
            return {sid: SNOHead(sid, source, text or "") for sid, source, text in session.execute(stmt)}

    def jobs_by_state(self) -> dict[tuple[str, str], int]:
        """(kind, state) → number of jobs."""
        stmt = select(JobRow.kind, JobRow.state, func.count()).group_by(JobRow.kind, JobRow.state)
        with self._db.reading("jobs_by_state") as session:
            return {(kind, state): int(n) for kind, state, n in session.execute(stmt)}

    def trust_histogram(self, buckets: Sequence[float]) -> tuple[list[int], float, int]:
        return self._histogram("trust_histogram", SNORow.trust, buckets, SNORow.trust.is_not(None))

    def job_latency_histogram(self, buckets: Sequence[float], kind: str) -> tuple[list[int], float, int]:
        """End-to-end latency (created → finished) of successful jobs of ``kind``, in seconds."""
        seconds: Any
        if self._db.dialect == "postgresql":
            seconds = func.extract("epoch", JobRow.updated_at - JobRow.created_at)
        else:
            seconds = (func.julianday(JobRow.updated_at) - func.julianday(JobRow.created_at)) * 86400.0
        where = (JobRow.kind == kind, JobRow.state == "SUCCESS")
        return self._histogram("job_latency_histogram", seconds, buckets, *where)

    def synthesis_outcomes(self) -> tuple[int, int]:
        """(accepted, finished) synthesis attempts."""
        stmt = select(
            func.coalesce(func.sum(case((AttemptRow.accepted.is_(True), 1), else_=0)), 0), func.count()
        ).where(AttemptRow.finished_at.is_not(None))
        with self._db.reading("synthesis_outcomes") as session:
            accepted, finished = session.execute(stmt).one()
        return int(accepted or 0), int(finished or 0)

    def counts(self) -> dict[str, int]:
        """Row counts for ``cns stats``: each table, SNOs per status and jobs per state."""
        tables = {
            "documents": Document,
            "snos": SNORow,
            "tombstones": SNOTombstone,
            "pairs": PairRow,
            "synthesis_attempts": AttemptRow,
            "jobs": JobRow,
        }
        with self._db.reading("counts") as session:
            result = {
                name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in tables.items()
            }
            for status, n in session.execute(select(SNORow.status, func.count()).group_by(SNORow.status)):
                result[f"snos_{status}"] = int(n)
            for state, n in session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)):
                result[f"jobs_{state}"] = int(n)
        return result

    def _histogram(
        self, operation: str, column: Any, buckets: Sequence[float], *where: Any
    ) -> tuple[list[int], float, int]:
        """Cumulative bucket counts (``le`` semantics), sum and count of a column, in one query."""
        cols = [func.sum(case((column <= b, 1), else_=0)) for b in buckets]
        stmt: Select[Any] = select(*cols, func.coalesce(func.sum(column), 0.0), func.count(column)).where(
            *where
        )
        with self._db.reading(operation) as session:
            row = session.execute(stmt).one()
        return [int(v or 0) for v in row[: len(buckets)]], float(row[-2] or 0.0), int(row[-1] or 0)
