"""Read-only queries behind the API's list endpoints and the Prometheus collector.

The store's ``list`` returns every matching SNO; an HTTP list needs a page and a total, and the
metrics need aggregates that never load SNO JSON. Both are single SQL statements here, run on
the store's engine (the same database every API process and worker shares).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cns.store.sql import SQLStore
from cns.store.sql._pairs import pair_record_of
from cns.store.sql.schema import AttemptRow, JobRow, PairRow, SNORow
from cns.workflow.lifecycle.attempts import outcome_of


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int


def list_snos(
    store: SQLStore,
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    min_trust: float | None = None,
    source: str | None = None,
) -> Page:
    """SNO JSON documents, oldest first, with the total matching count."""
    conditions = []
    if status is not None:
        conditions.append(SNORow.status == status)
    if min_trust is not None:
        conditions.append(SNORow.trust >= min_trust)
    if source is not None:
        conditions.append(SNORow.source == source)
    rows = select(SNORow.data).where(*conditions).order_by(SNORow.created_at, SNORow.sno_id)
    count = select(func.count()).select_from(SNORow).where(*conditions)
    with Session(store.engine) as session:
        total = int(session.scalar(count) or 0)
        items = [dict(d) for d in session.scalars(rows.limit(limit).offset(offset))]
    return Page(items, total)


def list_pairs(store: SQLStore, *, limit: int, offset: int, min_potential: float | None = None) -> Page:
    """Stored chiral pairs, highest synthesis potential first, in the one pair shape
    (:func:`~cns.core.pair_json.pair_json`)."""
    conditions = [] if min_potential is None else [PairRow.potential >= min_potential]
    rows = select(PairRow).where(*conditions).order_by(PairRow.potential.desc(), PairRow.pair_id)
    count = select(func.count()).select_from(PairRow).where(*conditions)
    with Session(store.engine) as session:
        total = int(session.scalar(count) or 0)
        items = [pair_record_of(r).to_dict() for r in session.scalars(rows.limit(limit).offset(offset))]
    return Page(items, total)


def list_syntheses(store: SQLStore, *, limit: int, offset: int, accepted: bool | None = None) -> Page:
    """Finished synthesis attempts (newest first) with their pair and resulting SNO id.

    ``accepted`` is true / false / null and ``outcome`` says the same in words: ``accepted``,
    ``rejected`` or ``error`` (the synthesis could not run); ``accepted=False`` lists rejections only.
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
    with Session(store.engine) as session:
        total = int(session.scalar(count) or 0)
        items = [
            {
                "pair_id": a.pair_id,
                "attempt_no": a.attempt_no,
                "sno_a": sno_a,
                "sno_b": sno_b,
                "accepted": a.accepted,
                "outcome": outcome_of(a.accepted),
                "sno_id": a.result_sno_id,
                "reasons": list(a.reasons or []),
                "finished_at": a.finished_at.isoformat() if a.finished_at else None,
                "cooldown_until": a.cooldown_until.isoformat() if a.cooldown_until else None,
            }
            for a, sno_a, sno_b in session.execute(rows.limit(limit).offset(offset))
        ]
    return Page(items, total)


def jobs_by_state(store: SQLStore) -> dict[tuple[str, str], int]:
    """(kind, state) → number of jobs."""
    stmt = select(JobRow.kind, JobRow.state, func.count()).group_by(JobRow.kind, JobRow.state)
    with Session(store.engine) as session:
        return {(kind, state): int(n) for kind, state, n in session.execute(stmt)}


def histogram(
    values_column: Any, buckets: Sequence[float], store: SQLStore, *where: Any
) -> tuple[list[int], float, int]:
    """Cumulative bucket counts (``le`` semantics), sum and count of a column, in one query."""
    cols = [func.sum(case((values_column <= b, 1), else_=0)) for b in buckets]
    stmt = select(*cols, func.coalesce(func.sum(values_column), 0.0), func.count(values_column)).where(*where)
    with Session(store.engine) as session:
        row = session.execute(stmt).one()
    return [int(v or 0) for v in row[: len(buckets)]], float(row[-2] or 0.0), int(row[-1] or 0)


def trust_histogram(store: SQLStore, buckets: Sequence[float]) -> tuple[list[int], float, int]:
    return histogram(SNORow.trust, buckets, store, SNORow.trust.is_not(None))


def job_latency_histogram(
    store: SQLStore, buckets: Sequence[float], kind: str
) -> tuple[list[int], float, int]:
    """End-to-end latency (created → finished) of successful jobs of ``kind``, in seconds."""
    with Session(store.engine) as session:
        dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        seconds: Any = func.extract("epoch", JobRow.updated_at - JobRow.created_at)
    else:
        seconds = (func.julianday(JobRow.updated_at) - func.julianday(JobRow.created_at)) * 86400.0
    return histogram(seconds, buckets, store, JobRow.kind == kind, JobRow.state == "SUCCESS")


def synthesis_outcomes(store: SQLStore) -> tuple[int, int]:
    """(accepted, finished) synthesis attempts."""
    stmt = select(
        func.coalesce(func.sum(case((AttemptRow.accepted.is_(True), 1), else_=0)), 0), func.count()
    ).where(AttemptRow.finished_at.is_not(None))
    with Session(store.engine) as session:
        accepted, finished = session.execute(stmt).one()
    return int(accepted or 0), int(finished or 0)
