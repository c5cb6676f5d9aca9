"""Build the worker's Celery app: configure it, register every task, hand it to the runtime.

``celery -A cns.tasks worker`` imports :mod:`cns.tasks`, which calls :func:`create_worker_app`
once. Nothing else here runs at import time: the app, the signal handlers and the logging set-up
happen when the function is called, and the runtime (:mod:`cns.worker.runtime`) receives the app
instead of importing it.

Tasks are thin edges: deserialise the job id, call a service function, decide between retry and
giving up. A database or broker failure is neither: the delivery holds its message until the
store answers and puts it back unacknowledged (:mod:`cns.worker.transient`). Job state lives in the database; the only argument of a job task is the job id (JSON,
a few dozen bytes). Retries are bounded by the job's delivery counter. The job tasks are one per
row of the job table (:mod:`cns.services.job_table`) and use
:class:`~cns.worker.job_request.JobRequest`, so a hard time limit or a lost worker whose message
is not redelivered still ends the job as FAILURE (the body cannot record those).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded

from cns.config.settings import CNSConfig, get_config
from cns.errors import CNSError
from cns.logging_setup import get_logger
from cns.services.job_table import JOB_TABLE, JobKind
from cns.services.jobs import JobHandler, fail_job, run_job
from cns.services.reconcile import scheduled_reconcile
from cns.services.runtime import Runtime
from cns.services.synthesis_jobs import sweep
from cns.worker import runtime as worker_runtime
from cns.worker import signals, transient
from cns.worker.celery_app import (
    CANARY,
    CANARY_KEY,
    CANARY_TTL_SECONDS,
    EVALUATE_SNO,
    FIND_PAIRS,
    RECONCILE_JOBS,
    make_celery,
)
from cns.worker.job_request import JobRequest
from cns.workflow.lifecycle import rescore_one

log = get_logger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Longest pause between retries; must stay far below the visibility timeout, or Redis would
#: deliver the waiting task a second time while the first delivery still holds it.
MAX_RETRY_COUNTDOWN = 30


def run_delivery(
    task: Task, runtime: Runtime, job_id: str, handler: JobHandler, *, started: float | None = None
) -> dict[str, Any]:
    """One delivery of a job task.

    A database or broker failure holds the message and puts it back unacknowledged
    (:mod:`cns.worker.transient`); other unexpected errors retry with backoff up to the poison cap.
    """
    started = time.monotonic() if started is None else started
    cap = runtime.config.celery.max_deliveries
    try:
        job = run_job(runtime.store, job_id, max_deliveries=cap, handler=handler, leases=runtime.leases)
    except SoftTimeLimitExceeded:
        limit = runtime.config.celery.task_soft_time_limit_seconds
        fail_job(runtime.store, job_id, f"time_limit: the task exceeded its soft time limit of {limit} s")
        return {"job_id": job_id, "state": "FAILURE"}
    except Exception as exc:
        if transient.is_transient_failure(exc):
            transient.requeue_with_store(
                exc, store=runtime.store, config=runtime.config, job_id=job_id, started=started
            )
        if runtime.store.get_job(job_id) is None:
            return {"job_id": job_id, "state": "UNKNOWN"}  # nothing to retry: never a loop
        if task.request.retries + 1 < cap:
            countdown = min(2**task.request.retries, MAX_RETRY_COUNTDOWN)
            log.warning("job.retry", error=type(exc).__name__, countdown=countdown)
            raise task.retry(exc=exc, countdown=countdown, max_retries=cap) from exc
        reason = exc.message if isinstance(exc, CNSError) else str(exc)
        fail_job(runtime.store, job_id, f"{type(exc).__name__}: {reason}"[:2000])
        return {"job_id": job_id, "state": "FAILURE"}
    transient.delivered()
    return {"job_id": job_id, "state": job.state.value}


def _job_task(row: JobKind) -> Callable[[Task, str], dict[str, Any]]:
    """The body of the task that carries jobs of ``row.kind``."""

    def body(self: Task, job_id: str) -> dict[str, Any]:
        started = time.monotonic()
        try:
            runtime = worker_runtime.get_runtime()
        except Exception as exc:  # a process (re)built while the database is away opens no store
            if not transient.is_transient_failure(exc):
                raise
            budget = transient.hold_budget(get_config(), started)
            transient.hold_and_requeue(exc, job_id=job_id, budget=budget, ready=worker_runtime.get_runtime)
        return run_delivery(self, runtime, job_id, row.handler(runtime), started=started)

    body.__name__ = row.task_name.rpartition(".")[2]
    body.__qualname__ = body.__name__
    body.__doc__ = row.summary
    return body


def register_tasks(app: Celery) -> None:
    """Register every CNS task on ``app`` (job tasks from the job table, then the others)."""

    def task(**options: Any) -> Callable[[F], F]:
        """``app.task`` with a typed signature (Celery ships no type hints).

        ``shared=False``: the tasks belong to this app only, not to every Celery app the process
        creates later (the API's publishing app, test apps that register their own task of a name).
        """
        return cast(Callable[[F], F], app.task(shared=False, **options))

    for row in JOB_TABLE.values():
        task(name=row.task_name, bind=True, Request=JobRequest)(_job_task(row))

    @task(name=EVALUATE_SNO)
    def evaluate_sno(sno_id: str) -> dict[str, object]:
        """Re-score one stored SNO against the current shared population (an idempotent upsert)."""
        sno = rescore_one(worker_runtime.get_runtime().manager, sno_id)
        return {"sno_id": sno.sno_id, "trust_score": sno.trust_score, "status": sno.status.value}

    @task(name=FIND_PAIRS)
    def find_pairs() -> dict[str, Any]:
        """Periodic (beat): re-score first if the population grew, else find and record chiral
        pairs and schedule the syntheses not in cooldown."""
        runtime = worker_runtime.get_runtime()
        return sweep(
            store=runtime.store, publisher=runtime.publisher, config=runtime.config, manager=runtime.manager
        )

    @task(name=RECONCILE_JOBS)
    def reconcile_jobs() -> dict[str, object]:
        """Periodic (beat): re-publish jobs the broker lost or whose lease ran out, fail those past
        the poison cap; stamps the marker the workers' reconciler watch reads."""
        runtime = worker_runtime.get_runtime()
        return scheduled_reconcile(
            store=runtime.store, publisher=runtime.publisher, config=runtime.config
        ).to_dict()

    @task(name=CANARY)
    def canary(token: str) -> dict[str, object]:
        """Readiness probe round-trip: proves a worker consumes and can answer (through the broker)."""
        with app.connection_for_write() as conn:
            conn.default_channel.client.set(
                CANARY_KEY.format(token=token), os.getpid(), ex=CANARY_TTL_SECONDS
            )
        return {"token": token, "pid": os.getpid()}


def create_worker_app(config: CNSConfig) -> Celery:
    """The worker's Celery app for ``config``: logging configured, tasks registered, signal
    handlers connected, and the app handed to the runtime to publish follow-up jobs."""
    signals.configure_process_logging()  # before Celery's own start-up checks may warn
    app = make_celery(config)
    register_tasks(app)
    worker_runtime.bind_app(app)
    signals.connect()
    return app
