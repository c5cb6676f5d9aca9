"""Jobs: the one path by which the API, the CLI and Celery tasks create and run background work.

Submitting (API side) follows the outbox pattern: the document and the job row
are committed first (in one transaction), then only the job id is published. If the broker
refuses within the publish deadline the job is marked overdue (``deadline = now``) so the
reconciler publishes it later, and :class:`~cns.errors.BrokerUnavailable` tells the caller to
answer 503. Messages go out through the :class:`~cns.ports.Publisher` port: this module never
imports the broker library.

Running (worker side) is safe under at-least-once delivery: a finished job is a logged no-op
(``job.already_completed``), every delivery is counted (``claim_job``), and a job delivered more
than ``celery.max_deliveries`` times without finishing is failed with reason ``max_deliveries``
instead of crashing workers forever. The task bodies themselves are idempotent (SNO ids are
derived from the document, results are upserts), so a redelivery never duplicates data.

A database or broker failure during a job (:func:`cns.errors.is_transient`, wherever it was
raised and however the handler wrapped it) never fails the job: :func:`run_job` raises
:class:`JobInterrupted` naming the delivery, and the worker puts the message back for a later
delivery after releasing the claim (:mod:`cns.worker.transient`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cns.config.settings import CNSConfig
from cns.core.records import utcnow
from cns.errors import (
    BrokerUnavailable,
    CNSError,
    IngestionError,
    JobError,
    PairNotFoundError,
    SNONotFoundError,
    TransientError,
    ValidationError,
    is_transient,
)
from cns.logging_setup import bound_context, get_logger
from cns.ports import Publisher
from cns.services.job_kinds import INGEST, PROCESS_INGESTION
from cns.services.leases import LeaseKeeper
from cns.store.sql import JobRecord, JobState, NewDocument, SQLStore, document_id_for

log = get_logger(__name__)

MAX_IDEMPOTENCY_KEY_CHARS = 200
#: Errors that a retry cannot fix: the job fails at once, without another delivery.
PERMANENT_ERRORS: tuple[type[CNSError], ...] = (
    IngestionError,
    ValidationError,
    SNONotFoundError,
    PairNotFoundError,
    JobError,
)

#: Runs a claimed job and returns its result, which :func:`run_job` records as SUCCESS — or the
#: job already completed, when the handler recorded SUCCESS in its own last transaction (ingestion
#: does, so that its SNO and the job's state commit together).
JobHandler = Callable[[JobRecord], dict[str, Any] | JobRecord]


class IdempotencyKeyReused(ValidationError):
    """An ``Idempotency-Key`` was replayed with a different request body (answered with 422)."""


class JobInterrupted(TransientError):
    """A database or broker failure interrupted delivery ``attempt`` of ``job_id`` after its claim.

    The job did nothing wrong: the worker releases the claim (so the poison cap does not count
    it) and puts the message back for another delivery.
    """

    @classmethod
    def of(cls, job: JobRecord, cause: BaseException) -> JobInterrupted:
        return cls(
            f"delivery {job.attempts} of job {job.job_id} interrupted: {type(cause).__name__}: {cause}"[
                :2000
            ],
            job_id=job.job_id,
            attempt=job.attempts,
        )


@contextmanager
def _interruptions(job: JobRecord) -> Iterator[None]:
    """Turn a transient failure anywhere in the block into :class:`JobInterrupted`."""
    try:
        yield
    except JobInterrupted:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise JobInterrupted.of(job, exc) from exc
        raise


@dataclass(frozen=True)
class Submission:
    """The outcome of a submit: the job (new or replayed) and whether this call created it."""

    job: JobRecord
    created: bool
    #: the document already belonged to another submitter (None: unknown, e.g. a replay)
    document_shared: bool | None = None

    @property
    def document_id(self) -> str | None:
        value = self.job.payload.get("document_id")
        return str(value) if value else None


def fingerprint(body: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a request body (what an idempotency replay must match)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def submit_job(
    *,
    store: SQLStore,
    publisher: Publisher,
    config: CNSConfig,
    kind: str,
    task_name: str,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
    document: NewDocument | None = None,
    owner: str | None = None,
    item: int | None = None,
) -> Submission:
    """Create (or replay) a job, commit it, then publish its id.

    ``idempotency_key`` is scoped by ``kind``, by the submitting API key (``owner``) and by
    ``item`` (a batch's position; see :func:`scoped_idempotency_key`); a replay with the same body returns the original job
    (re-publishing it only if its first publish failed), a replay with another body raises
    :class:`IdempotencyKeyReused`. ``document`` (what an ingest job refers to) is stored in the
    job's transaction: one commit per submission, and a replay stores nothing.
    """
    if owner is not None:
        payload = {**payload, "submitted_by": owner}
    body_print = fingerprint(payload)
    scoped = scoped_idempotency_key(kind, idempotency_key, owner=owner, item=item)
    deadline = utcnow() + timedelta(seconds=config.celery.job_deadline_seconds)
    # no read of the key first: the insert itself finds a taken key (one statement on PostgreSQL)
    outcome = store.submit_job(
        kind,
        {**payload, "fingerprint": body_print},
        idempotency_key=scoped,
        deadline=deadline,
        document=document,
    )
    job = outcome.job
    if not outcome.created:  # the key was used before, or by a concurrent request that won
        return _replay(store, publisher, config, job, body_print, task_name)
    log.info("job.created", job_id=job.job_id, kind=kind)
    publish_job(store, publisher, job, task_name)
    return Submission(job, True, outcome.document_shared)


def scoped_idempotency_key(kind: str, key: str | None, *, owner: str | None, item: int | None) -> str | None:
    """The stored form of a client's ``Idempotency-Key``: unique per kind, API key and batch item.

    Two API keys may pick the same key without seeing each other's jobs, and a batch's items
    (``batch/<i>``) can never collide with a single submission (``one``), whatever the key holds.
    """
    if key is None:
        return None
    where = "one" if item is None else f"batch/{item}"
    return f"{kind}|{owner or '-'}|{where}|{key}"


def _replay(
    store: SQLStore,
    publisher: Publisher,
    config: CNSConfig,
    job: JobRecord,
    body_print: str,
    task_name: str,
) -> Submission:
    if job.payload.get("fingerprint") != body_print:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a different request",
            job_id=job.job_id,
        )
    log.info("job.replayed", job_id=job.job_id, state=job.state.value)
    if job.state is JobState.PENDING and job.deadline is not None and job.deadline <= utcnow():
        job = store.requeue_job(
            job.job_id, deadline=utcnow() + timedelta(seconds=config.celery.job_deadline_seconds)
        )
        publish_job(store, publisher, job, task_name)
    return Submission(job, False)


def publish_job(store: SQLStore, publisher: Publisher, job: JobRecord, task_name: str) -> None:
    """Publish ``job``'s id; on failure mark it overdue for the reconciler and re-raise."""
    try:
        publisher.publish(task_name, job.job_id)
    except BrokerUnavailable as exc:
        store.requeue_job(job.job_id, deadline=utcnow())
        exc.details["job_id"] = job.job_id
        raise
    log.info("job.published", job_id=job.job_id, task=task_name)


def submit_ingestion(
    *,
    store: SQLStore,
    publisher: Publisher,
    config: CNSConfig,
    source: str,
    text: str,
    metadata: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    owner: str | None = None,
    item: int | None = None,
) -> Submission:
    """Store the document, create an ``ingest`` job for it and publish the job id.

    ``owner`` is the verified API key submitting it (recorded on the job and, for a new
    document, on the document); ``item`` is the position in a batch.
    """
    if not source.strip():
        raise ValidationError("'source' must not be empty", field="source")
    if not text.strip():
        raise ValidationError("'text' must not be empty", field="text")
    document_id = document_id_for(text)
    payload = {"source": source, "text": text, "metadata": dict(metadata or {}), "document_id": document_id}
    return submit_job(
        store=store,
        publisher=publisher,
        config=config,
        kind=INGEST,
        task_name=PROCESS_INGESTION,
        payload=payload,
        idempotency_key=idempotency_key,
        document=NewDocument(text, source, dict(metadata or {}), owner_key_id=owner),
        owner=owner,
        item=item,
    )


def run_job(
    store: SQLStore,
    job_id: str,
    *,
    max_deliveries: int,
    handler: JobHandler,
    leases: LeaseKeeper | None = None,
) -> JobRecord:
    """Run one delivery of ``job_id``: skip if finished or held, enforce the poison cap, record the outcome.

    Permanent errors fail the job; a transient one (the database or broker, even wrapped in a
    permanent type) raises :class:`JobInterrupted`; anything else propagates so the task can
    retry (the delivery was counted, so retries are bounded by the same poison cap). The skip, the cap and the count
    are one conditional update (:meth:`~cns.store.sql.SQLStore.claim_job`), and a handler may
    record SUCCESS in its own last transaction: an ingest delivery commits twice in all (the
    claim, then document + SNO + SUCCESS) instead of four times.

    With ``leases`` (a worker), the claim takes a lease that a thread renews while the handler
    runs, and a job running under another process's live lease is left to it (``job.lease_held``:
    a duplicate message, never a second concurrent run). Every final write carries the claim's
    fencing token: when the job was handed on meanwhile, the write is refused (``job.fenced``).
    """
    claim = store.claim_job(
        job_id, max_deliveries=max_deliveries, lease=None if leases is None else leases.terms
    )
    job = claim.job
    if job is None:
        log.warning("job.unknown", job_id=job_id)
        raise JobError(f"no job with id {job_id!r}", job_id=job_id)
    with bound_context(job_id=job_id, job_kind=job.kind):
        if not claim.started:
            if job.state.terminal:
                log.info("job.already_completed", state=job.state.value, attempts=job.attempts)
                return job
            if claim.held_by is not None:
                log.info("job.lease_held", holder=claim.held_by, attempts=job.attempts)
                return job
            log.error("job.poison", attempts=job.attempts, max_deliveries=max_deliveries)
            return store.fail_job(
                job_id,
                f"max_deliveries: delivered {job.attempts} times without finishing (cap {max_deliveries})",
                lease_token=job.lease_token,
            )
        log.info("job.started", attempt=job.attempts, lease_token=job.lease_token)
        with _interruptions(job), nullcontext() if leases is None else leases.hold(job):
            return _run_claimed(store, job, handler)


def _run_claimed(store: SQLStore, job: JobRecord, handler: JobHandler) -> JobRecord:
    """Run the handler of a claimed ``job`` and write its outcome, fenced by the claim's token."""
    token = job.lease_token
    try:
        outcome = handler(job)
    except PERMANENT_ERRORS as exc:
        if isinstance(exc, BrokerUnavailable) or is_transient(
            exc
        ):  # the database or broker failed, not the job
            raise
        log.warning("job.failed", error=type(exc).__name__, reason=exc.message[:300])
        return _fenced(
            store.fail_job(job.job_id, f"{type(exc).__name__}: {exc.message}", lease_token=token), token
        )
    done = (
        outcome
        if isinstance(outcome, JobRecord)
        else store.complete_job(job.job_id, outcome, lease_token=token)
    )
    if done.lease_token != token:
        return _fenced(done, token)
    result = done.result or {}
    log.info("job.completed", attempt=done.attempts, **{k: v for k, v in result.items() if k == "sno_id"})
    return done


def _fenced(job: JobRecord, token: int) -> JobRecord:
    """``job`` as stored; logs the refusal when a newer claim made this delivery's write stale."""
    if job.lease_token != token:
        log.warning(
            "job.fenced", lease_token=token, current_token=job.lease_token, state=job.state.value,
            reason="the job was claimed again while this delivery ran (its lease ran out); its write was refused",
        )  # fmt: skip
    return job


def fail_job(
    store: SQLStore, job_id: str, reason: str, *, lease_token: int | None = None
) -> JobRecord | None:
    """Mark a job failed (used by tasks whose retries are exhausted); None if it does not exist.

    With ``lease_token``, only if the job was not claimed again since (see :func:`run_job`).
    """
    if store.get_job(job_id) is None:
        return None
    log.warning("job.failed", job_id=job_id, reason=reason[:300])
    return store.fail_job(job_id, reason, lease_token=lease_token)


def job_view(job: JobRecord) -> dict[str, Any]:
    """The public JSON of a job (``GET /tasks/{id}``): never the document text or fingerprint."""
    result = dict(job.result or {})
    return {
        "task_id": job.job_id,
        "job_id": job.job_id,
        "kind": job.kind,
        "state": job.state.value,
        "attempts": job.attempts,
        "document_id": job.payload.get("document_id"),
        "pair_id": job.payload.get("pair_id"),
        "sno_id": result.get("sno_id") if job.state is JobState.SUCCESS else None,
        "result": result if job.state is JobState.SUCCESS else None,
        "error": job.error if job.state is JobState.FAILURE else None,
        "created_at": _iso(job.created_at),
        "updated_at": _iso(job.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
