"""The job repository (:class:`cns.ports.JobRepository`): Redis only delivers job ids, the
database says what happened (docs/reliability.md#the-design-the-tests-rely-on).

Delivery is at-least-once, so every transition is written to be harmless when repeated:
``create_job`` with an idempotency key returns the existing job instead of a second one,
``start_job`` counts deliveries (the poison cap reads ``attempts``), and ``complete_job`` writes
the result only while the job is not yet SUCCESS — a redelivered task cannot overwrite it.

A running job holds a *lease* (``lease_owner`` until ``lease_expires_at``) that its worker renews;
each claim raises ``lease_token``, and the final writes of a delivery may carry the token they
claimed with, so a worker that lost its lease (it was frozen, the job was handed on) cannot
overwrite the outcome of the worker that took over. The rules are in :mod:`cns.services.leases`.

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

from sqlalchemy import Row, or_, select, update
from sqlalchemy.orm import Session

from cns.core.records import JobClaim, JobRecord, JobState, JobSubmission, LeaseTerms, NewDocument, utcnow
from cns.store.rules import NOT_TERMINAL, completion_values, document_id_for, lease_expiry, lease_is_live
from cns.store.sql._base import Database, insert_for
from cns.store.sql._documents import put_document_in
from cns.store.sql._job_rows import JOBS, job_of, returning, transition_in
from cns.store.sql._submit_pg import submit_in_one_statement
from cns.store.sql.schema import Document, JobRow


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

    def submit_job(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        deadline: datetime | None = None,
        document: NewDocument | None = None,
    ) -> JobSubmission:
        """:meth:`create_job` for a new submission, telling whether its document was another's.

        On PostgreSQL one statement (:mod:`cns.store.sql._submit_pg`); when the job was not
        inserted (its idempotency key is taken), the existing job is read and returned.
        """
        if self._db.dialect != "postgresql":
            return self._submit_in_transaction(kind, payload, idempotency_key, deadline, document)
        now = utcnow()
        job_id = uuid.uuid4().hex
        inserted, shared = submit_in_one_statement(
            self._db.engine, job_id=job_id, kind=kind, payload=dict(payload), idempotency_key=idempotency_key,
            now=now, deadline=deadline, document=document,
        )  # fmt: skip
        if inserted:
            job = JobRecord(
                job_id=job_id, kind=kind, state=JobState.PENDING, attempts=0, payload=dict(payload),
                result=None, error=None, idempotency_key=idempotency_key, created_at=now, updated_at=now,
                deadline=deadline,
            )  # fmt: skip
            return JobSubmission(job, True, shared)
        assert idempotency_key is not None  # a fresh job id cannot conflict
        existing = self.job_by_key(idempotency_key)
        if existing is None:  # the key's job was deleted in between: a rare race, the slow path decides
            return self._submit_in_transaction(kind, payload, idempotency_key, deadline, document)
        return JobSubmission(existing, False)

    def _submit_in_transaction(
        self,
        kind: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
        deadline: datetime | None,
        document: NewDocument | None,
    ) -> JobSubmission:
        owner_before = None
        if document is not None:
            with self._db.reading("submit_job") as session:
                stored = session.get(Document, document_id_for(document.text))
                owner_before = (stored is not None, None if stored is None else stored.owner_key_id)
        job, created = self.create_job(
            kind, payload, idempotency_key=idempotency_key, deadline=deadline, document=document
        )
        if not created or document is None or owner_before is None:
            return JobSubmission(job, created)
        exists, owner = owner_before
        return JobSubmission(job, True, exists and owner != document.owner_key_id)

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
            {
                "state": JobState.STARTED.value,
                "attempts": JOBS.c.attempts + 1,
                "lease_token": JOBS.c.lease_token + 1,
            },
            only_if=NOT_TERMINAL,
        )

    def claim_job(self, job_id: str, *, max_deliveries: int, lease: LeaseTerms | None = None) -> JobClaim:
        """Count a delivery, mark STARTED and take a new fencing token (and ``lease``), if the job
        is unfinished, below the poison cap and not running under another process's live lease.

        One conditional ``UPDATE … RETURNING`` decides atomically (no read-then-write window
        between two deliveries of the same job); only when it matched no row is the job read, in
        the same transaction, to tell an unknown job from a finished, a poisoned or a held one.
        """
        now = utcnow()
        stmt = returning(
            update(JOBS).where(
                JOBS.c.job_id == job_id,
                JOBS.c.state.in_(NOT_TERMINAL),
                JOBS.c.attempts < max_deliveries,
                or_(
                    JOBS.c.lease_owner.is_(None),
                    JOBS.c.lease_expires_at.is_(None),
                    JOBS.c.lease_expires_at < now,
                ),
            ),
            {
                "state": JobState.STARTED.value,
                "attempts": JOBS.c.attempts + 1,
                "lease_token": JOBS.c.lease_token + 1,
                "lease_owner": None if lease is None else lease.holder,
                "lease_expires_at": None if lease is None else lease_expiry(now, lease.seconds),
            },
        )
        with self._db.writing("claim_job", single_statement=True) as session:
            row = session.execute(stmt).one_or_none()
            if row is not None:
                return JobClaim(job_of(row), started=True)
            current = session.execute(select(JOBS).where(JOBS.c.job_id == job_id)).one_or_none()
            if current is None:
                return JobClaim(None, started=False)
            job = job_of(current)
            held = not job.state.terminal and lease_is_live(job.lease_owner, job.lease_expires_at, now)
            return JobClaim(job, started=False, held_by=job.lease_owner if held else None)

    def renew_lease(self, job_id: str, token: int, *, seconds: float) -> bool:
        """Extend the running job's lease to ``seconds`` from now, if ``token`` still holds it.

        False when the job was claimed again (a newer token), finished, requeued or released:
        the caller has lost the lease and its final write will be refused.
        """
        stmt = (
            update(JOBS)
            .where(
                JOBS.c.job_id == job_id,
                JOBS.c.lease_token == token,
                JOBS.c.state == JobState.STARTED.value,
                JOBS.c.lease_owner.is_not(None),
            )
            .values(lease_expires_at=lease_expiry(utcnow(), seconds))
            .returning(JOBS.c.job_id)
        )
        with self._db.writing("renew_lease", single_statement=True) as session:
            return session.execute(stmt).one_or_none() is not None

    def release_lease(self, job_id: str, token: int, *, reserve_seconds: float) -> bool:
        """Give up the lease of an unfinished job (its delivery ends, a retry will claim it).

        The job keeps no owner, so the next delivery may claim it at once, but stays reserved
        for ``reserve_seconds``: only if nobody claims it by then does the reconciler hand it on.
        """
        stmt = (
            update(JOBS)
            .where(
                JOBS.c.job_id == job_id,
                JOBS.c.lease_token == token,
                JOBS.c.state == JobState.STARTED.value,
            )
            .values(lease_owner=None, lease_expires_at=lease_expiry(utcnow(), reserve_seconds))
            .returning(JOBS.c.job_id)
        )
        with self._db.writing("release_lease", single_statement=True) as session:
            return session.execute(stmt).one_or_none() is not None

    def expired_leases(self, now: datetime | None = None) -> builtins.list[JobRecord]:
        """STARTED jobs whose lease ran out: their worker died or stopped renewing."""
        stmt = (
            select(JobRow)
            .where(
                JobRow.state == JobState.STARTED.value,
                JobRow.lease_expires_at.is_not(None),
                JobRow.lease_expires_at < (now or utcnow()),
            )
            .order_by(JobRow.lease_expires_at)
        )
        with self._db.reading("expired_leases") as session:
            return [job_of(row) for row in session.scalars(stmt)]

    def requeue_expired(
        self, job_id: str, token: int, *, now: datetime, deadline: datetime | None = None
    ) -> JobRecord | None:
        """Put a STARTED job back to PENDING if its lease under ``token`` ran out before ``now``.

        None when the lease was renewed, or the job claimed again or finished, since it was
        read: the reconciler then leaves it alone. The holder loses the lease (no owner).
        """
        stmt = returning(
            update(JOBS).where(
                JOBS.c.job_id == job_id,
                JOBS.c.lease_token == token,
                JOBS.c.state == JobState.STARTED.value,
                JOBS.c.lease_expires_at < now,
            ),
            {
                "state": JobState.PENDING.value,
                "deadline": deadline,
                "lease_owner": None,
                "lease_expires_at": None,
            },
        )
        with self._db.writing("requeue_expired", single_statement=True) as session:
            row = session.execute(stmt).one_or_none()
            return None if row is None else job_of(row)

    def complete_job(
        self, job_id: str, result: dict[str, Any], *, lease_token: int | None = None
    ) -> JobRecord:
        """Mark SUCCESS with ``result``; idempotent — the first stored result is never overwritten.

        With ``lease_token``, only while the job still holds that token (see the module doc).
        """
        values, only_if = completion_values(result)
        return self._transition("complete_job", job_id, values, only_if=only_if, lease_token=lease_token)

    def fail_job(self, job_id: str, error: str, *, lease_token: int | None = None) -> JobRecord:
        """Mark FAILURE with ``error`` unless the job already succeeded (or, with ``lease_token``,
        was claimed again since)."""
        values = {"state": JobState.FAILURE.value, "error": error}
        return self._transition("fail_job", job_id, values, only_if=NOT_TERMINAL, lease_token=lease_token)

    def release_job(self, job_id: str, *, attempt: int, deadline: datetime | None = None) -> JobRecord | None:
        """Undo the claim of delivery ``attempt`` that a transient failure interrupted.

        The job goes back to PENDING with ``attempts = attempt - 1`` (a lost database connection
        is not the job's fault and must not spend its poison-cap budget) and the new ``deadline``
        — only while it is still STARTED at that count: a job finished meanwhile, or claimed by
        another delivery since, is left alone. Returns the released job, or None.
        """
        stmt = returning(
            update(JOBS).where(
                JOBS.c.job_id == job_id,
                JOBS.c.state == JobState.STARTED.value,
                JOBS.c.attempts == attempt,
            ),
            # the lease ends with the interrupted delivery: the put-back message may run at once
            {
                "state": JobState.PENDING.value,
                "attempts": attempt - 1,
                "deadline": deadline,
                "lease_owner": None,
                "lease_expires_at": None,
            },
        )
        with self._db.writing("release_job", single_statement=True) as session:
            row = session.execute(stmt).one_or_none()
            return None if row is None else job_of(row)

    def requeue_job(self, job_id: str, *, deadline: datetime | None = None) -> JobRecord:
        """Put a stuck, unfinished job back to PENDING (the reconciler's sweep); its lease ends."""
        values: dict[str, Any] = {
            "state": JobState.PENDING.value,
            "deadline": deadline,
            "lease_owner": None,
            "lease_expires_at": None,
        }
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
        self,
        operation: str,
        job_id: str,
        values: dict[str, Any],
        *,
        only_if: tuple[str, ...],
        lease_token: int | None = None,
    ) -> JobRecord:
        with self._db.writing(operation, single_statement=True) as session:
            return transition_in(session, operation, job_id, values, only_if=only_if, lease_token=lease_token)
