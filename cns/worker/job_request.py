"""The worker-side ``Request`` of job tasks: it records the failures that the task body never sees.

Two ways a job task ends without its body getting to call ``fail_job``:

* **hard time limit** (``task_time_limit``): the pool kills the child outright. The soft limit
  lets the body clean up (``time_limit`` in :mod:`cns.worker.app`); a body that ignores it — a native
  call, a careless ``except Exception`` — is killed, and nothing in the child writes the job row.
* **worker lost without requeue**: the child dies (OOM kill, segfault) and Celery acks the
  message instead of putting it back (``task_reject_on_worker_lost`` off, or an early ack).

Both are decided in the worker *main* process, in :meth:`Request.on_timeout` /
:meth:`Request.on_failure`, and the message is then acked (``task_acks_on_failure_or_timeout``),
so it is never delivered again. Without this hook the job row would stay STARTED until the
reconciler's deadline, which would then re-publish it and run the over-long document again, up
to ``max_deliveries`` times. :class:`JobRequest` writes FAILURE right away, through the same
service function as the task body, without touching ``attempts`` (the delivery was already
counted by ``claim_job``).

Why a ``Request`` subclass (Celery's documented ``Task.Request`` extension point) and not the
``task_failure`` signal: that signal fires for hard time limits only since Celery 5.7
(celery#10226), and ``pyproject.toml`` accepts 5.4; ``on_timeout`` is called in every version.
Whether the message went back to the queue is read from Celery's own decision (a
``reject(requeue=True)``), not re-derived from settings: a requeued delivery is not a failure —
the next delivery runs (and counts) the job.

A third event concerns the job's lease (:mod:`cns.services.leases`): when a child dies and its
message *is* requeued, the child's lease would still block the next delivery until it ran out.
The main process knows which child died, so it releases that child's lease first
(:func:`release_lost_child`), and the requeued message is claimed at once. A failure is only
written for a job whose lease this worker's child held (or nobody holds): a job handed to
another worker meanwhile is that worker's to finish.

The main process is the consumer's event loop: no models are loaded here, each event opens a
short-lived store and closes it (no database connection is held, so forked children inherit
none), and nothing raises — a write that fails is logged, and the reconciler stays the fallback.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from billiard.einfo import ExceptionWithTraceback
from billiard.exceptions import WorkerLostError
from celery.worker import state as worker_state
from celery.worker.request import Request

from cns.config.settings import get_config
from cns.logging_setup import get_logger
from cns.services.job_table import JOB_TASK_NAMES
from cns.services.jobs import fail_job
from cns.services.leases import holder_name
from cns.store.sql import JobState, SQLStore

log = get_logger(__name__)

#: Tasks whose only argument is a job id (the others have no job row to fail).
JOB_TASKS = JOB_TASK_NAMES
#: How Celery reports a child that died: billiard >= 4.3 may report the exit itself first.
_LOST = (WorkerLostError, SystemExit, KeyboardInterrupt)
MAX_REASON_CHARS = 2000

StoreOpener = Callable[[], SQLStore]


def open_store() -> SQLStore:
    """The job table of this deployment (a new engine: the main process keeps none between events)."""
    return SQLStore.open(config=get_config())


def hard_limit_reason(timeout: float) -> str:
    """The job error for a hard kill; starts with ``time_limit`` like the soft-limit error."""
    return f"time_limit: the task exceeded its hard time limit of {timeout:g} s and its worker process was killed"


def worker_lost_reason(exc: BaseException) -> str:
    """The job error for a child that died and whose message is not redelivered."""
    if not isinstance(exc, WorkerLostError):
        exc = WorkerLostError(f"worker process exited prematurely ({type(exc).__name__}: {exc})")
    return f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]


def job_id_of(task_name: str | None, args: Sequence[Any] | None) -> str | None:
    """The job id of a job task's arguments; None for other tasks and malformed arguments."""
    if task_name not in JOB_TASKS or not args or not isinstance(args[0], str):
        return None
    return args[0]


def release_lost_child(
    task_name: str | None,
    args: Sequence[Any] | None,
    holder: str,
    *,
    task_id: str | None = None,
    opener: StoreOpener = open_store,
) -> bool:
    """Release the lease that the dead child ``holder`` held on this task's job, if it still does.

    Returns True if a lease was released. Never raises (the lease then runs out by itself).
    """
    job_id = job_id_of(task_name, args)
    if job_id is None:
        return False
    try:
        store = opener()
        try:
            job = store.get_job(job_id)
            if job is None or job.state is not JobState.STARTED or job.lease_owner != holder:
                return False
            reserve = get_config().celery.lease_seconds
            released = store.jobs.release_lease(job_id, job.lease_token, reserve_seconds=reserve)
        finally:
            store.close()
    except Exception as exc:
        log.warning("job.lease_release_failed", job_id=job_id, task_id=task_id, error=type(exc).__name__)
        return False
    if released:
        log.info(
            "job.lease_released",
            job_id=job_id,
            task_id=task_id,
            holder=holder,
            reason="its worker process died",
        )
    return released


def record_final_failure(
    task_name: str | None,
    args: Sequence[Any] | None,
    reason: str,
    *,
    task_id: str | None = None,
    holder: str | None = None,
    opener: StoreOpener = open_store,
) -> bool:
    """Fail the job of a job task whose message will not be delivered again.

    Returns True if the row now holds ``reason``. A finished job is left alone (a child that
    completed just before the limit keeps its SUCCESS), and so is a job whose lease another
    process than ``holder`` (the child that ran this delivery) holds; non-job tasks and
    malformed arguments are ignored. Never raises: this runs in the worker's main process.
    """
    job_id = job_id_of(task_name, args)
    if job_id is None:
        return False
    try:
        store = opener()
        try:
            job = store.get_job(job_id)
            if job is None or job.state.terminal:
                return False
            if holder is not None and job.lease_owner not in (None, holder):
                log.info("job.failure_not_ours", job_id=job_id, task_id=task_id, holder=job.lease_owner)
                return False
            log.error(
                "job.killed", job_id=job_id, task_id=task_id, task=task_name, attempt=job.attempts,
                reason=reason[:300],
            )  # fmt: skip
            failed = fail_job(store, job_id, reason, lease_token=job.lease_token)
        finally:
            store.close()
    except Exception as exc:  # the reconciler's deadline sweep is the fallback
        log.error(
            "job.failure_not_recorded", job_id=job_id, task_id=task_id, error=type(exc).__name__,
            reason=str(exc)[:300],
        )  # fmt: skip
        return False
    return failed is not None and failed.error == reason


class JobRequest(Request):  # type: ignore[misc]  # celery ships no type hints
    """``Request`` of the job tasks: hard kills and lost workers end as FAILURE in the job table."""

    #: Set when Celery rejects the message; ``True`` means it went back to the queue.
    requeued = False

    def reject(self, requeue: bool = False) -> None:
        if not self.acknowledged:
            self.requeued = requeue
        super().reject(requeue=requeue)

    def on_timeout(self, soft: bool, timeout: float) -> None:
        try:
            super().on_timeout(soft, timeout)
        finally:
            # during a cold shutdown Celery does not fail the task either (the worker killed it)
            if not soft and not worker_state.should_terminate and self.delivery_is_final():
                record_final_failure(
                    self.task.name,
                    self.args,
                    hard_limit_reason(timeout),
                    task_id=self.id,
                    holder=self.holder(),
                )

    def on_failure(self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False) -> None:
        exc = exc_info.exception
        if isinstance(exc, ExceptionWithTraceback):
            exc = exc.exc
        lost = isinstance(exc, _LOST)
        holder = self.holder()
        if (
            lost and holder is not None
        ):  # before Celery requeues the message: the redelivery may claim at once
            release_lost_child(self.task.name, self.args, holder, task_id=self.id)
        try:
            super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)
        finally:
            if lost and self.delivery_is_final():
                record_final_failure(
                    self.task.name, self.args, worker_lost_reason(exc), task_id=self.id, holder=holder
                )

    def holder(self) -> str | None:
        """The lease owner name of the child that ran this delivery (None before it was accepted)."""
        return holder_name(socket.gethostname(), int(self.worker_pid)) if self.worker_pid else None

    def delivery_is_final(self) -> bool:
        """Whether no further delivery will run this job: acked (or rejected) without requeue.

        ``retry_on_worker_lost`` publishes a new message instead, so it counts as not final.
        """
        retries = getattr(self.task, "retry_on_worker_lost", False)  # Celery >= 5.7 only
        return bool(self.acknowledged and not self.requeued and not retries)
