"""The reconciler: the database is the record, Redis only a delivery mechanism
(docs/reliability.md#the-design-the-tests-rely-on).

A job can be lost by the broker (Redis restarted without persistence, a publish that failed
after the row was committed, a message acked when a hard time limit killed its worker). The
periodic sweep finds such jobs and publishes them again; task bodies are idempotent, so a job
that was not actually lost only costs one no-op delivery.

* ``PENDING`` and past its deadline: re-published **only when the task queue is empty** — with a
  backlog the job is most likely still waiting in the queue, and re-publishing every job of a
  long backlog would double it. Once the backlog drains, truly lost jobs are recovered.
* ``STARTED`` and not updated for ``job_deadline_seconds`` (longer than the hard time limit, so
  no task can still be running): re-published, or failed with ``max_deliveries`` at the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cns.config.settings import CNSConfig
from cns.core.records import utcnow
from cns.errors import BrokerUnavailable
from cns.logging_setup import get_logger
from cns.ports import Publisher
from cns.services.job_table import task_for_kind
from cns.store.sql import JobRecord, JobState, SQLStore

log = get_logger(__name__)


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    deferred: int = 0  # overdue PENDING jobs left alone because the queue is not empty

    def to_dict(self) -> dict[str, object]:
        return {"requeued": len(self.requeued), "failed": len(self.failed), "deferred": self.deferred}


def stuck_jobs(store: SQLStore, config: CNSConfig, now: datetime) -> tuple[list[JobRecord], list[JobRecord]]:
    """(overdue PENDING jobs, STARTED jobs silent for longer than the job deadline)."""
    pending = [j for j in store.overdue_jobs(now) if j.state is JobState.PENDING]
    silent_since = now - timedelta(seconds=config.celery.job_deadline_seconds)
    started = [j for j in store.list_jobs(state=JobState.STARTED) if j.updated_at < silent_since]
    return pending, started


def reconcile_jobs(
    *, store: SQLStore, publisher: Publisher, config: CNSConfig, now: datetime | None = None
) -> ReconcileReport:
    """One sweep: re-publish lost jobs, fail those at the poison cap."""
    now = now or utcnow()
    report = ReconcileReport()
    pending, started = stuck_jobs(store, config, now)
    if pending:
        depth = publisher.queue_depth()
        if depth != 0:  # None (unknown) or a backlog: the message is probably still queued
            report.deferred = len(pending)
            pending = []
    new_deadline = now + timedelta(seconds=config.celery.job_deadline_seconds)
    for job in [*pending, *started]:
        task = task_for_kind(job.kind)
        if task is None:
            continue
        if job.attempts >= config.celery.max_deliveries:
            store.fail_job(job.job_id, f"max_deliveries: delivered {job.attempts} times without finishing")
            report.failed.append(job.job_id)
            continue
        store.requeue_job(job.job_id, deadline=new_deadline)
        try:
            publisher.publish(task, job.job_id)
        except BrokerUnavailable:
            store.requeue_job(job.job_id, deadline=now)  # try again next sweep
            log.warning("reconcile.publish_failed", job_id=job.job_id)
            break
        report.requeued.append(job.job_id)
        log.info("reconcile.requeued", job_id=job.job_id, kind=job.kind, was=job.state.value)
    if report.requeued or report.failed or report.deferred:
        log.info("reconcile.done", **report.to_dict())
    return report
