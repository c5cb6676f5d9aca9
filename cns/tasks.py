"""THE Celery app of CNS (``celery -A cns.tasks worker``, ``celery -A cns.tasks beat``).

Tasks are thin edges (anchors practice 11): deserialise the job id, call a service function,
decide between retry and giving up. Job state lives in the database; the only argument of a job
task is the job id (JSON, a few dozen bytes). Retries are bounded by the job's delivery counter.
Job tasks use :class:`~cns.worker.job_request.JobRequest`, so a hard time limit or a lost worker
whose message is not redelivered still ends the job as FAILURE (the body cannot record those).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from cns.config.settings import get_config
from cns.errors import CNSError
from cns.logging_setup import get_logger
from cns.services.jobs import JobHandler, fail_job, run_job
from cns.services.reconcile import reconcile_jobs as reconcile_service
from cns.services.synthesis_jobs import rescore_job_handler, sweep, synthesize_job_handler
from cns.worker import signals
from cns.worker.celery_app import (
    CANARY,
    CANARY_KEY,
    CANARY_TTL_SECONDS,
    EVALUATE_SNO,
    FIND_PAIRS,
    PROCESS_INGESTION,
    RECONCILE_JOBS,
    RESCORE_POPULATION,
    SYNTHESIZE_PAIR,
    make_celery,
)
from cns.worker.job_request import JobRequest
from cns.worker.runtime import WorkerRuntime, get_runtime
from cns.workflow.lifecycle import rescore_one

log = get_logger(__name__)

signals.configure_process_logging()  # before Celery's own start-up checks may warn
app = make_celery(get_config())
signals.connect()

F = TypeVar("F", bound=Callable[..., Any])


def task(**options: Any) -> Callable[[F], F]:
    """``app.task`` with a typed signature (Celery ships no type hints).

    ``shared=False``: the tasks belong to this app only, not to every Celery app the process
    creates later (the API's publishing app, test apps that register their own task of a name).
    """
    return cast(Callable[[F], F], app.task(shared=False, **options))


#: Longest pause between retries; must stay far below the visibility timeout (B.2: ETA caveat).
MAX_RETRY_COUNTDOWN = 30


def _run(task: Task, runtime: WorkerRuntime, job_id: str, handler: JobHandler) -> dict[str, Any]:
    """One delivery of a job task; transient errors retry with backoff up to the poison cap."""
    cap = runtime.config.celery.max_deliveries
    try:
        job = run_job(runtime.store, job_id, max_deliveries=cap, handler=handler)
    except SoftTimeLimitExceeded:
        limit = runtime.config.celery.task_soft_time_limit_seconds
        fail_job(runtime.store, job_id, f"time_limit: the task exceeded its soft time limit of {limit} s")
        return {"job_id": job_id, "state": "FAILURE"}
    except Exception as exc:
        if runtime.store.get_job(job_id) is None:
            return {"job_id": job_id, "state": "UNKNOWN"}  # nothing to retry: never a loop
        if task.request.retries + 1 < cap:
            countdown = min(2**task.request.retries, MAX_RETRY_COUNTDOWN)
            log.warning("job.retry", error=type(exc).__name__, countdown=countdown)
            raise task.retry(exc=exc, countdown=countdown, max_retries=cap) from exc
        reason = exc.message if isinstance(exc, CNSError) else str(exc)
        fail_job(runtime.store, job_id, f"{type(exc).__name__}: {reason}"[:2000])
        return {"job_id": job_id, "state": "FAILURE"}
    return {"job_id": job_id, "state": job.state.value}


@task(name=PROCESS_INGESTION, bind=True, Request=JobRequest)
def process_ingestion(self: Task, job_id: str) -> dict[str, Any]:
    """Turn the document of an ``ingest`` job into an evaluated, stored SNO."""
    runtime = get_runtime()
    return _run(self, runtime, job_id, runtime.manager.ingest_job)


@task(name=SYNTHESIZE_PAIR, bind=True, Request=JobRequest)
def synthesize_pair(self: Task, job_id: str) -> dict[str, Any]:
    """Synthesize the pair of a ``synthesize`` job (cooldown and attempts from the database)."""
    runtime = get_runtime()
    handler = synthesize_job_handler(runtime.store, runtime.manager, runtime.config)
    return _run(self, runtime, job_id, handler)


@task(name=RESCORE_POPULATION, bind=True, Request=JobRequest)
def rescore_population(self: Task, job_id: str) -> dict[str, Any]:
    """Re-score the grown population (a ``rescore`` job), then find pairs and schedule syntheses."""
    runtime = get_runtime()
    handler = rescore_job_handler(runtime.store, runtime.manager, runtime.publisher, runtime.config)
    return _run(self, runtime, job_id, handler)


@task(name=EVALUATE_SNO)
def evaluate_sno(sno_id: str) -> dict[str, object]:
    """Re-score one stored SNO against the current shared population (an idempotent upsert)."""
    sno = rescore_one(get_runtime().manager, sno_id)
    return {"sno_id": sno.sno_id, "trust_score": sno.trust_score, "status": sno.status.value}


@task(name=FIND_PAIRS)
def find_pairs() -> dict[str, Any]:
    """Periodic (beat): re-score first if the population grew, else find and record chiral pairs
    and schedule the syntheses not in cooldown."""
    runtime = get_runtime()
    return sweep(
        store=runtime.store, publisher=runtime.publisher, config=runtime.config, manager=runtime.manager
    )


@task(name=RECONCILE_JOBS)
def reconcile_jobs() -> dict[str, object]:
    """Periodic (beat): re-publish jobs the broker lost, fail those past the poison cap."""
    runtime = get_runtime()
    return reconcile_service(
        store=runtime.store, publisher=runtime.publisher, config=runtime.config
    ).to_dict()


@task(name=CANARY)
def canary(token: str) -> dict[str, object]:
    """Readiness probe round-trip: proves a worker consumes and can answer (through the broker)."""
    with app.connection_for_write() as conn:
        conn.default_channel.client.set(CANARY_KEY.format(token=token), os.getpid(), ex=CANARY_TTL_SECONDS)
    return {"token": token, "pid": os.getpid()}
