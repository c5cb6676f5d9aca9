"""The durable job table: Redis only delivers job ids, the database says what happened
(docs/reliability.md#the-design-the-tests-rely-on).

Delivery is at-least-once, so every transition is written to be harmless when repeated:
``create_job`` with an idempotency key returns the existing job instead of a second one,
``start_job`` counts deliveries (the poison cap reads ``attempts``), and ``complete_job`` writes
the result only while the job is not yet SUCCESS — a redelivered task cannot overwrite it.

Each transition is one ``UPDATE … RETURNING`` in one transaction, and :meth:`claim_job` folds the
worker's "read the job, check the poison cap, count the delivery" into that single statement:
a job is bookkept with two statements per delivery (claim, then complete or fail) instead of
four transactions, which is most of what the job table cost a worker per document. Both are
single statements, so on PostgreSQL they run in autocommit (no BEGIN/COMMIT round trips).
"""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, Update, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cns.errors import JobError, StoreError
from cns.store.sql._pairs import PairStoreMixin
from cns.store.sql.records import JobClaim, JobRecord, JobState, NewDocument
from cns.store.sql.schema import JobRow, utcnow

_NOT_TERMINAL = (JobState.PENDING.value, JobState.STARTED.value)
#: The job table as a Core table (rows are keyed by column name, which are the attribute names).
JOBS = cast(Table, JobRow.__table__)


class JobStoreMixin(PairStoreMixin):
    def create_job(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        job_id: str | None = None,
        idempotency_key: str | None = None,
        deadline: datetime | None = None,
        document: NewDocument | None = None,
    ) -> tuple[JobRecord, bool]:
        """Create a PENDING job; return ``(job, created)``.

        With an ``idempotency_key`` already used, nothing is written and the existing job is
        returned with ``created=False`` (race-free: the unique constraint decides). ``document``
        is stored in the same transaction as the job row, so a submission commits once and a
        job never exists without the document it refers to.
        """
        now = utcnow()
        row = {
            "job_id": job_id or uuid.uuid4().hex,
            "kind": kind,
            "state": JobState.PENDING.value,
            "attempts": 0,
            "payload": dict(payload or {}),
            "result": None,
            "error": None,
            "idempotency_key": idempotency_key,
            "created_at": now,
            "updated_at": now,
            "deadline": deadline,
        }
        key, value = (
            ("job_id", row["job_id"]) if idempotency_key is None else ("idempotency_key", idempotency_key)
        )
        existing = select(JOBS).where(JOBS.c[key] == value)
        with self._writing("create_job") as session:
            if idempotency_key is not None:
                found = session.execute(existing).one_or_none()
                if found is not None:
                    return _job(found), False
            if document is not None:
                self._put_document_in(
                    session, document.text, document.source, document.metadata, document.owner_key_id
                )
            created = self._insert_new_job(session, row, key=key)
            if created is not None:
                return _job(created), True
            stored = session.execute(existing).one()  # that job id existed, or a concurrent request won
            return _job(stored), False

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._reading("get_job") as session:
            row = session.execute(select(JOBS).where(JOBS.c.job_id == job_id)).one_or_none()
            return None if row is None else _job(row)

    def job_by_key(self, idempotency_key: str) -> JobRecord | None:
        with self._reading("job_by_key") as session:
            row = session.scalar(select(JobRow).where(JobRow.idempotency_key == idempotency_key))
            return None if row is None else _job(row)

    def start_job(self, job_id: str) -> JobRecord:
        """Count one delivery and mark STARTED; a finished job is returned unchanged."""
        return self._transition(
            "start_job",
            job_id,
            {"state": JobState.STARTED.value, "attempts": JOBS.c.attempts + 1},
            only_if=_NOT_TERMINAL,
        )

    def claim_job(self, job_id: str, *, max_deliveries: int) -> JobClaim:
        """Count a delivery and mark STARTED, if the job is unfinished and below the poison cap.

        One conditional ``UPDATE … RETURNING`` decides atomically (no read-then-write window
        between two deliveries of the same job); only when it matched no row is the job read, in
        the same transaction, to tell an unknown job from a finished or a poisoned one.
        """
        stmt = _returning(
            update(JOBS).where(
                JOBS.c.job_id == job_id,
                JOBS.c.state.in_(_NOT_TERMINAL),
                JOBS.c.attempts < max_deliveries,
            ),
            {"state": JobState.STARTED.value, "attempts": JOBS.c.attempts + 1},
        )
        with self._writing("claim_job", single_statement=True) as session:
            row = session.execute(stmt).one_or_none()
            if row is not None:
                return JobClaim(_job(row), started=True)
            current = session.execute(select(JOBS).where(JOBS.c.job_id == job_id)).one_or_none()
            return JobClaim(None if current is None else _job(current), started=False)

    def complete_job(self, job_id: str, result: dict[str, Any]) -> JobRecord:
        """Mark SUCCESS with ``result``; idempotent — the first stored result is never overwritten."""
        values, only_if = completion_values(result)
        return self._transition("complete_job", job_id, values, only_if=only_if)

    def fail_job(self, job_id: str, error: str) -> JobRecord:
        """Mark FAILURE with ``error`` unless the job already succeeded."""
        values = {"state": JobState.FAILURE.value, "error": error}
        return self._transition("fail_job", job_id, values, only_if=_NOT_TERMINAL)

    def requeue_job(self, job_id: str, *, deadline: datetime | None = None) -> JobRecord:
        """Put a stuck, unfinished job back to PENDING (the reconciler's sweep)."""
        values: dict[str, Any] = {"state": JobState.PENDING.value, "deadline": deadline}
        return self._transition("requeue_job", job_id, values, only_if=_NOT_TERMINAL)

    def list_jobs(
        self, *, state: JobState | str | None = None, kind: str | None = None, limit: int | None = None
    ) -> builtins.list[JobRecord]:
        stmt = select(JobRow).order_by(JobRow.created_at, JobRow.job_id)
        if state is not None:
            stmt = stmt.where(JobRow.state == JobState(state).value)
        if kind is not None:
            stmt = stmt.where(JobRow.kind == kind)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._reading("list_jobs") as session:
            return [_job(row) for row in session.scalars(stmt)]

    def overdue_jobs(self, now: datetime | None = None) -> builtins.list[JobRecord]:
        """Unfinished jobs whose deadline has passed (candidates for requeue)."""
        stmt = (
            select(JobRow)
            .where(
                JobRow.state.in_(_NOT_TERMINAL),
                JobRow.deadline.is_not(None),
                JobRow.deadline < (now or utcnow()),
            )
            .order_by(JobRow.deadline)
        )
        with self._reading("overdue_jobs") as session:
            return [_job(row) for row in session.scalars(stmt)]

    def _job_owner(self, session: Session, job_id: str) -> str | None:
        """The API key that submitted ``job_id`` (``submitted_by`` in its payload), if any.

        The row is locked (``FOR UPDATE``) so a concurrent document delete, which marks the job
        first, is either seen here (and wins: :class:`JobError`) or waits for this write to end.
        """
        stmt = select(JOBS.c.payload).where(JOBS.c.job_id == job_id).with_for_update()
        payload = session.execute(stmt).scalar()
        if isinstance(payload, dict) and payload.get("deleted"):
            raise JobError(
                f"job {job_id}: its document was deleted before the ingestion finished", job_id=job_id
            )
        owner = payload.get("submitted_by") if isinstance(payload, dict) else None
        return str(owner) if owner else None

    def _forget_document_in_jobs(self, session: Session, document_id: str) -> int:
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
            values: dict[str, Any] = {"payload": {"document_id": document_id, "deleted": True}}
            if state in _NOT_TERMINAL:
                values.update(
                    state=JobState.FAILURE.value, error="document deleted before ingestion finished"
                )
            else:
                values["result"] = {"deleted": True}
            session.execute(update(JOBS).where(JOBS.c.job_id == job_id).values(updated_at=utcnow(), **values))
            marked += 1
        return marked

    def _insert_new_job(self, session: Session, row: dict[str, Any], *, key: str) -> Row[Any] | None:
        """INSERT the job row unless its ``key`` column's value exists; the new row, or None."""
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = insert(JOBS).values(**row).on_conflict_do_nothing(index_elements=[key]).returning(*JOBS.c)
        return session.execute(stmt).one_or_none()

    def _transition(
        self, operation: str, job_id: str, values: dict[str, Any], *, only_if: tuple[str, ...]
    ) -> JobRecord:
        with self._writing(operation, single_statement=True) as session:
            return transition_in(session, operation, job_id, values, only_if=only_if)


def completion_values(result: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The values of a SUCCESS transition and the states it may leave (not SUCCESS itself)."""
    values = {"state": JobState.SUCCESS.value, "result": dict(result), "error": None}
    return values, (*_NOT_TERMINAL, JobState.FAILURE.value)


def transition_in(
    session: Session, operation: str, job_id: str, values: dict[str, Any], *, only_if: tuple[str, ...]
) -> JobRecord:
    """Apply ``values`` if the job is in one of ``only_if``; the job as it is afterwards."""
    stmt = _returning(update(JOBS).where(JOBS.c.job_id == job_id, JOBS.c.state.in_(only_if)), values)
    row = session.execute(stmt).one_or_none()
    return _job(row) if row is not None else _load(session, job_id, operation)


def _returning(stmt: Update, values: dict[str, Any]) -> Any:
    """``stmt`` setting ``values`` (and ``updated_at``) and returning the updated row, if any.

    Core statements on the table, not ORM-enabled ones: the job table's hot path (claim,
    complete, create) then skips the ORM's bulk-update and identity-map work, about a third
    of the client CPU of each statement.
    """
    return stmt.values(updated_at=utcnow(), **values).returning(*JOBS.c)


def _load(session: Session, job_id: str, operation: str) -> JobRecord:
    row = session.execute(select(JOBS).where(JOBS.c.job_id == job_id)).one_or_none()
    if row is None:
        raise StoreError(f"{operation}: no job with id {job_id!r}", job_id=job_id)
    return _job(row)


def _job(row: JobRow | Row[Any]) -> JobRecord:
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
    )
