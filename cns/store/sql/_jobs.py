"""The job repository (:class:`cns.ports.JobRepository`): Redis only delivers job ids, the
database says what happened (docs/reliability.md#the-design-the-tests-rely-on).

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
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from cns.core.records import JobClaim, JobRecord, JobState, NewDocument, utcnow
from cns.store.rules import NOT_TERMINAL, completion_values
from cns.store.sql._base import Database, insert_for
from cns.store.sql._documents import put_document_in
from cns.store.sql._job_rows import JOBS, job_of, returning, transition_in
from cns.store.sql.schema import JobRow


class SQLJobRepository:
    """Jobs on the shared :class:`~cns.store.sql._base.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
        with self._db.writing("create_job") as session:
            if idempotency_key is not None:
                found = session.execute(existing).one_or_none()
                if found is not None:
                    return job_of(found), False
            if document is not None:
                put_document_in(
                    session, document.text, document.source, document.metadata, document.owner_key_id
                )
            created = self._insert_new_job(session, row, key=key)
            if created is not None:
                return job_of(created), True
            stored = session.execute(existing).one()  # that job id existed, or a concurrent request won
            return job_of(stored), False

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._db.reading("get_job") as session:
            row = session.execute(select(JOBS).where(JOBS.c.job_id == job_id)).one_or_none()
            return None if row is None else job_of(row)

    def job_by_key(self, idempotency_key: str) -> JobRecord | None:
        with self._db.reading("job_by_key") as session:
            row = session.scalar(select(JobRow).where(JobRow.idempotency_key == idempotency_key))
            return None if row is None else job_of(row)

    def start_job(self, job_id: str) -> JobRecord:
        """Count one delivery and mark STARTED; a finished job is returned unchanged."""
        return self._transition(
            "start_job",
            job_id,
            {"state": JobState.STARTED.value, "attempts": JOBS.c.attempts + 1},
            only_if=NOT_TERMINAL,
        )

    def claim_job(self, job_id: str, *, max_deliveries: int) -> JobClaim:
        """Count a delivery and mark STARTED, if the job is unfinished and below the poison cap.

        One conditional ``UPDATE … RETURNING`` decides atomically (no read-then-write window
        between two deliveries of the same job); only when it matched no row is the job read, in
        the same transaction, to tell an unknown job from a finished or a poisoned one.
        """
        stmt = returning(
            update(JOBS).where(
                JOBS.c.job_id == job_id,
                JOBS.c.state.in_(NOT_TERMINAL),
                JOBS.c.attempts < max_deliveries,
            ),
            {"state": JobState.STARTED.value, "attempts": JOBS.c.attempts + 1},
        )
        with self._db.writing("claim_job", single_statement=True) as session:
            row = session.execute(stmt).one_or_none()
            if row is not None:
                return JobClaim(job_of(row), started=True)
            current = session.execute(select(JOBS).where(JOBS.c.job_id == job_id)).one_or_none()
            return JobClaim(None if current is None else job_of(current), started=False)

    def complete_job(self, job_id: str, result: dict[str, Any]) -> JobRecord:
        """Mark SUCCESS with ``result``; idempotent — the first stored result is never overwritten."""
        values, only_if = completion_values(result)
        return self._transition("complete_job", job_id, values, only_if=only_if)

    def fail_job(self, job_id: str, error: str) -> JobRecord:
        """Mark FAILURE with ``error`` unless the job already succeeded."""
        values = {"state": JobState.FAILURE.value, "error": error}
        return self._transition("fail_job", job_id, values, only_if=NOT_TERMINAL)

    def requeue_job(self, job_id: str, *, deadline: datetime | None = None) -> JobRecord:
        """Put a stuck, unfinished job back to PENDING (the reconciler's sweep)."""
        values: dict[str, Any] = {"state": JobState.PENDING.value, "deadline": deadline}
        return self._transition("requeue_job", job_id, values, only_if=NOT_TERMINAL)

    def list_jobs(
        self,
        *,
        state: JobState | str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> builtins.list[JobRecord]:
        order = (
            (JobRow.created_at.desc(), JobRow.job_id.desc())
            if newest_first
            else (JobRow.created_at, JobRow.job_id)
        )
        stmt = select(JobRow).order_by(*order)
        if state is not None:
            stmt = stmt.where(JobRow.state == JobState(state).value)
        if kind is not None:
            stmt = stmt.where(JobRow.kind == kind)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._db.reading("list_jobs") as session:
            return [job_of(row) for row in session.scalars(stmt)]

    def overdue_jobs(self, now: datetime | None = None) -> builtins.list[JobRecord]:
        """Unfinished jobs whose deadline has passed (candidates for requeue)."""
        stmt = (
            select(JobRow)
            .where(
                JobRow.state.in_(NOT_TERMINAL),
                JobRow.deadline.is_not(None),
                JobRow.deadline < (now or utcnow()),
            )
            .order_by(JobRow.deadline)
        )
        with self._db.reading("overdue_jobs") as session:
            return [job_of(row) for row in session.scalars(stmt)]

    def _insert_new_job(self, session: Session, row: dict[str, Any], *, key: str) -> Row[Any] | None:
        """INSERT the job row unless its ``key`` column's value exists; the new row, or None."""
        stmt = (
            insert_for(session)(JOBS)
            .values(**row)
            .on_conflict_do_nothing(index_elements=[key])
            .returning(*JOBS.c)
        )
        return session.execute(stmt).one_or_none()

    def _transition(
        self, operation: str, job_id: str, values: dict[str, Any], *, only_if: tuple[str, ...]
    ) -> JobRecord:
        with self._db.writing(operation, single_statement=True) as session:
            return transition_in(session, operation, job_id, values, only_if=only_if)
