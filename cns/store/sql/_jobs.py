"""The durable job table: Redis only delivers job ids, the database says what happened (B.5).

Delivery is at-least-once, so every transition is written to be harmless when repeated:
``create_job`` with an idempotency key returns the existing job instead of a second one,
``start_job`` counts deliveries (the poison cap reads ``attempts``), and ``complete_job`` writes
the result only while the job is not yet SUCCESS — a redelivered task cannot overwrite it.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cns.errors import StoreError
from cns.store.sql._pairs import PairStoreMixin
from cns.store.sql.records import JobRecord, JobState
from cns.store.sql.schema import JobRow, utcnow

_NOT_TERMINAL = (JobState.PENDING.value, JobState.STARTED.value)


class JobStoreMixin(PairStoreMixin):
    def create_job(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        job_id: str | None = None,
        idempotency_key: str | None = None,
        deadline: datetime | None = None,
    ) -> tuple[JobRecord, bool]:
        """Create a PENDING job; return ``(job, created)``.

        With an ``idempotency_key`` already used, nothing is written and the existing job is
        returned with ``created=False`` (race-free: the unique constraint decides).
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
        with self._writing("create_job") as session:
            if idempotency_key is not None:
                existing = session.scalar(select(JobRow).where(JobRow.idempotency_key == idempotency_key))
                if existing is not None:
                    return _job(existing), False
                self._upsert(session, JobRow, [row], keys=["idempotency_key"], update_columns=None)
                stored = session.scalar(select(JobRow).where(JobRow.idempotency_key == idempotency_key))
            else:
                self._upsert(session, JobRow, [row], keys=["job_id"], update_columns=None)
                stored = session.get(JobRow, row["job_id"])
            assert stored is not None
            return _job(stored), stored.job_id == row["job_id"]

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._reading("get_job") as session:
            row = session.get(JobRow, job_id)
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
            {"state": JobState.STARTED.value, "attempts": JobRow.attempts + 1},
            only_if=_NOT_TERMINAL,
        )

    def complete_job(self, job_id: str, result: dict[str, Any]) -> JobRecord:
        """Mark SUCCESS with ``result``; idempotent — the first stored result is never overwritten."""
        values = {"state": JobState.SUCCESS.value, "result": dict(result), "error": None}
        return self._transition("complete_job", job_id, values, only_if=(*_NOT_TERMINAL, "FAILURE"))

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

    def _transition(
        self, operation: str, job_id: str, values: dict[str, Any], *, only_if: tuple[str, ...]
    ) -> JobRecord:
        with self._writing(operation) as session:
            stmt = (
                update(JobRow)
                .where(JobRow.job_id == job_id, JobRow.state.in_(only_if))
                .values(updated_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )
            session.execute(stmt)
            return _load(session, job_id, operation)


def _load(session: Session, job_id: str, operation: str) -> JobRecord:
    row = session.get(JobRow, job_id, populate_existing=True)
    if row is None:
        raise StoreError(f"{operation}: no job with id {job_id!r}", job_id=job_id)
    return _job(row)


def _job(row: JobRow) -> JobRecord:
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
