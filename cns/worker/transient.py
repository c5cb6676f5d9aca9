"""What a job task does when the database or the broker fails under it: hold, release, put back.

A lost or refused database connection says nothing about the job, so it must never fail it —
and acknowledging the message would be as bad: the job would come back only when the
reconciler's ``celery.job_deadline_seconds`` (15 minutes by default) ran out. Instead the
delivery

1. **holds** its message while the store cannot be reached, pinging it with backoff
   (0.2 s doubling to 5 s). The worker reserves one message per process
   (``prefetch_multiplier`` 1 with late acks), so while every process holds one it takes
   nothing more off the queue: an outage pauses consumption instead of draining the queue;
2. **releases** the job's claim once the store answers (:meth:`~cns.ports.JobRepository.release_job`:
   back to PENDING with one attempt less), so an interruption does not spend the poison cap that
   exists to stop documents that crash workers;
3. **puts the message back** unacknowledged (``Reject(requeue=True)``) for a later delivery,
   which runs the job from the start — every step of a job is idempotent.

The hold is bounded by the task's soft time limit (less a margin) and by ``HOLD_MAX_SECONDS``:
past that the message goes back anyway, still unacknowledged, and the next delivery holds again.
Consecutive interruptions in one process lengthen the first pause, so a failure that keeps
recurring while the store answers pings cannot spin.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import NoReturn

import redis
from celery.exceptions import Reject, SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerOperationalError

from cns.config.settings import CNSConfig
from cns.core.records import utcnow
from cns.errors import CNSError, is_transient
from cns.logging_setup import get_logger
from cns.services.jobs import JobInterrupted
from cns.store.sql import SQLStore

log = get_logger(__name__)

PAUSE_START_SECONDS = 0.2
PAUSE_MAX_SECONDS = 5.0
#: Longest one delivery holds its message while the store is away.
HOLD_MAX_SECONDS = 60.0
#: Kept free before the soft time limit, so the hold ends before the limit interrupts it.
SOFT_LIMIT_MARGIN_SECONDS = 1.0
#: Errors of the broker's client libraries that may reach a task without being translated.
_BROKER_ERRORS = (BrokerOperationalError, redis.ConnectionError, redis.TimeoutError)

_streak = 0  # consecutive interrupted deliveries in this process


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_transient_failure(exc: BaseException) -> bool:
    """A database or broker failure anywhere in ``exc``'s chain (translated or raw)."""
    return is_transient(exc) or any(isinstance(e, _BROKER_ERRORS) for e in _chain(exc))


def hold_budget(config: CNSConfig, started: float) -> float:
    """Seconds a delivery that started at ``started`` (monotonic) may still hold its message."""
    left = config.celery.task_soft_time_limit_seconds - (time.monotonic() - started)
    return max(0.0, min(HOLD_MAX_SECONDS, left - SOFT_LIMIT_MARGIN_SECONDS))


def delivered() -> None:
    """A delivery ended normally: the next interruption starts with the shortest pause again."""
    global _streak
    _streak = 0


def hold_and_requeue(
    exc: BaseException,
    *,
    job_id: str,
    budget: float,
    ready: Callable[[], object],
    release: Callable[[int], None] | None = None,
) -> NoReturn:
    """Hold until ``ready()`` stops raising (or ``budget`` s pass), release, then requeue.

    ``release(attempt)`` undoes the claim of the interrupted delivery when ``exc`` names one
    (:class:`~cns.services.jobs.JobInterrupted`). Always raises ``Reject(requeue=True)``.
    """
    global _streak
    _streak += 1
    attempt = exc.details.get("attempt") if isinstance(exc, JobInterrupted) else None
    pause = min(PAUSE_START_SECONDS * 2 ** (_streak - 1), PAUSE_MAX_SECONDS)
    reason = exc.message if isinstance(exc, CNSError) else str(exc)
    log.warning(
        "job.transient_error", job_id=job_id, attempt=attempt, error=type(exc).__name__,
        reason=reason[:300], pause_seconds=pause,
    )  # fmt: skip
    reachable = released = False
    deadline = time.monotonic() + budget
    try:
        while True:
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
            try:
                ready()
                reachable = True
                if release is not None and isinstance(attempt, int):
                    release(attempt)
                    released = True
                break
            except Exception as error:
                if not is_transient_failure(error) and reachable:
                    log.error("job.release_failed", job_id=job_id, error=type(error).__name__)
                    break
            if time.monotonic() >= deadline:
                break
            pause = min(pause * 2, PAUSE_MAX_SECONDS)
    except SoftTimeLimitExceeded:
        pass  # the limit came first: put the message back all the same
    log.info("job.requeued", job_id=job_id, store_reachable=reachable, released=released)
    raise Reject(f"transient failure: {type(exc).__name__}", requeue=True)


def requeue_with_store(
    exc: BaseException, *, store: SQLStore, config: CNSConfig, job_id: str, started: float
) -> NoReturn:
    """:func:`hold_and_requeue` for a delivery that has its store: ping it, release the claim."""

    def release(attempt: int) -> None:
        deadline = utcnow() + timedelta(seconds=config.celery.job_deadline_seconds)
        store.release_job(job_id, attempt=attempt, deadline=deadline)

    hold_and_requeue(
        exc, job_id=job_id, budget=hold_budget(config, started), ready=store.ping, release=release
    )
