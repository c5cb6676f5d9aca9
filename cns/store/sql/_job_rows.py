"""Statements on the job table that other repositories run inside their own transactions.

The job repository (:mod:`cns.store.sql._jobs`) owns the table; a document submission, the
ingest write and a document's deletion also touch it, in the same transaction as their own
rows. Those shared statements live here, below both, so no repository imports another.

Core statements on the table, not ORM-enabled ones: the job table's hot path (claim,
complete, create) then skips the ORM's bulk-update and identity-map work, about a third of the
client CPU of each statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Update, select, update
from sqlalchemy.orm import Session

from cns.core.records import JobCompletion, JobRecord, JobState, utcnow
from cns.errors import StoreError
from cns.store.rules import completion_values, forgotten_job, owner_of_payload
from cns.store.sql._base import table_of
from cns.store.sql.schema import JobRow

#: The job table as a Core table (rows are keyed by column name, which are the attribute names).
JOBS = table_of(JobRow)


def transition_in(
    session: Session,
    operation: str,
    job_id: str,
    values: dict[str, Any],
    *,
    only_if: tuple[str, ...],
    lease_token: int | None = None,
) -> JobRecord:
    """Apply ``values`` if the job is in one of ``only_if`` (and, with ``lease_token``, still
    holds that fencing token); the job as it is afterwards."""
    where = [JOBS.c.job_id == job_id, JOBS.c.state.in_(only_if)]
    if lease_token is not None:
        where.append(JOBS.c.lease_token == lease_token)
    row = session.execute(returning(update(JOBS).where(*where), values)).one_or_none()
    return job_of(row) if row is not None else load_job(session, job_id, operation)


class LeaseSuperseded(Exception):
    """Raised inside a write transaction whose fencing token is stale, to roll it back whole.

    Internal to the store: the repository catches it and returns ``job`` (the job as it is), so
    callers see a refused write the same way as a refused transition.
    """

    def __init__(self, job: JobRecord) -> None:
        super().__init__(job.job_id)
        self.job = job


def complete_in(session: Session, operation: str, completes: JobCompletion) -> JobRecord:
    """Mark the job of ``completes`` SUCCESS inside the caller's transaction (fenced by its token)."""
    values, only_if = completion_values(completes.result)
    return transition_in(
        session, operation, completes.job_id, values, only_if=only_if, lease_token=completes.lease_token
    )


def returning(stmt: Update, values: dict[str, Any]) -> Any:
    """``stmt`` setting ``values`` (and ``updated_at``) and returning the updated row, if any."""
    return stmt.values(updated_at=utcnow(), **values).returning(*JOBS.c)


def load_job(session: Session, job_id: str, operation: str) -> JobRecord:
    row = session.execute(select(JOBS).where(JOBS.c.job_id == job_id)).one_or_none()
    if row is None:
        raise StoreError(f"{operation}: no job with id {job_id!r}", job_id=job_id)
    return job_of(row)


def job_owner_in(session: Session, job_id: str, *, lease_token: int | None = None) -> str | None:
    """The API key that submitted ``job_id`` (``submitted_by`` in its payload), if any.

    The row is locked (``FOR UPDATE``) so a concurrent document delete, which marks the job
    first, is either seen here (and wins: :class:`~cns.errors.JobError`) or waits for this write
    to end. With ``lease_token``, a job claimed again since (a newer token) raises
    :class:`LeaseSuperseded`: the lock also orders this write after any concurrent claim.
    """
    row = session.execute(select(JOBS).where(JOBS.c.job_id == job_id).with_for_update()).one_or_none()
    if row is not None and lease_token is not None and row.lease_token != lease_token:
        raise LeaseSuperseded(job_of(row))
    return owner_of_payload(job_id, None if row is None else row.payload)


def forget_document_in_jobs(session: Session, document_id: str) -> int:
    """Remove a deleted document's text from its jobs and mark them; unfinished ones fail."""
    rows = session.execute(
        select(JOBS.c.job_id, JOBS.c.state, JOBS.c.payload)
        .where(JOBS.c.kind == "ingest", JOBS.c.payload["document_id"].as_string() == document_id)
        .with_for_update()  # only this document's jobs: a delete must not lock the whole queue
    ).all()
    marked = 0
    for job_id, state, payload in rows:
        if not isinstance(payload, dict) or payload.get("document_id") != document_id:
            continue
        values = forgotten_job(document_id, state)
        session.execute(update(JOBS).where(JOBS.c.job_id == job_id).values(updated_at=utcnow(), **values))
        marked += 1
    return marked


def job_of(row: JobRow | Row[Any]) -> JobRecord:
    return JobRecord(
        job_id=row.job_id,
        kind=row.kind,
        state=JobState(row.state),
        attempts=row.attempts,
        payload=dict(row.payload or {}),
        result=None if row.result is None else dict(row.result),
        error=row.error,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deadline=row.deadline,
        lease_token=row.lease_token,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
    )
