"""The reconciler: the database is the record, Redis only a delivery mechanism
(docs/reliability.md#the-design-the-tests-rely-on).

A job can be lost by the broker (Redis restarted without persistence, a publish that failed
after the row was committed, a message acked when a hard time limit killed its worker), or by
its worker (killed with its whole process group: nothing gives its message back before the
broker's visibility timeout). The periodic sweep finds such jobs and publishes them again;
task bodies are idempotent and final writes fenced, so a job that was not actually lost only
costs one no-op delivery.

* ``PENDING`` and past its deadline: re-published **only when the task queue is empty** — with a
  backlog the job is most likely still waiting in the queue, and re-publishing every job of a
  long backlog would double it. Once the backlog drains, truly lost jobs are recovered.
* ``STARTED`` and its lease ran out (:mod:`cns.services.leases`): its worker stopped renewing
  it, so it died or froze. Put back to PENDING (the frozen worker can no longer renew, and its
  late write is fenced) and re-published at once, or failed with ``max_deliveries`` at the cap.
* ``STARTED`` without a lease (a row from before leases, or a claim made outside a worker) and
  not updated for ``job_deadline_seconds`` (longer than the hard time limit, so no task can
  still be running): the same.

Who runs it: ``cns beat`` schedules a sweep every ``celery.reconcile_interval_seconds`` and each
sweep stamps a marker in the store. Every worker process also watches that marker
(:func:`reconcile_if_overdue`): when no sweep has run for two intervals — beat is dead, or its
sweep waits in the queue behind a backlog — the first worker to take the turn runs one. The turn
is one conditional update in the store, so only one worker sweeps per period.
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

#: Store marker: when (epoch milliseconds) the last sweep started, whoever ran it.
RECONCILE_MARKER = "reconcile_last_ms"
#: Workers take over when no sweep started for this many reconcile intervals.
TAKEOVER_INTERVALS = 2


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    deferred: int = 0  # overdue PENDING jobs left alone because the queue is not empty

    def to_dict(self) -> dict[str, object]:
        return {"requeued": len(self.requeued), "failed": len(self.failed), "deferred": self.deferred}


def stuck_jobs(store: SQLStore, config: CNSConfig, now: datetime) -> tuple[list[JobRecord], list[JobRecord]]:
    """(overdue PENDING jobs, STARTED jobs without a lease silent for longer than the job deadline)."""
    pending = [j for j in store.overdue_jobs(now) if j.state is JobState.PENDING]
    silent_since = now - timedelta(seconds=config.celery.job_deadline_seconds)
    started = [
        j
        for j in store.list_jobs(state=JobState.STARTED)
        if j.lease_expires_at is None and j.updated_at < silent_since
    ]
    return pending, started


def reconcile_jobs(
    *, store: SQLStore, publisher: Publisher, config: CNSConfig, now: datetime | None = None
) -> ReconcileReport:
    """One sweep: re-publish lost jobs and jobs whose lease ran out, fail those at the poison cap."""
    now = now or utcnow()
    report = ReconcileReport()
    pending, started = stuck_jobs(store, config, now)
    if pending:
        depth = publisher.queue_depth()
        if depth != 0:  # None (unknown) or a backlog: the message is probably still queued
            report.deferred = len(pending)
            pending = []
    new_deadline = now + timedelta(seconds=config.celery.job_deadline_seconds)
    expired = store.jobs.expired_leases(now)
    for job in [*expired, *pending, *started]:
        task = task_for_kind(job.kind)
        if task is None:
            continue
        if job.attempts >= config.celery.max_deliveries:
            reason = f"max_deliveries: delivered {job.attempts} times without finishing"
            store.fail_job(job.job_id, reason, lease_token=job.lease_token)
            report.failed.append(job.job_id)
            continue
        if job.lease_expires_at is not None and job.state is JobState.STARTED:
            if (
                store.jobs.requeue_expired(job.job_id, job.lease_token, now=now, deadline=new_deadline)
                is None
            ):
                continue  # renewed, claimed or finished since it was read: its worker is alive
            log.warning(
                "reconcile.lease_expired", job_id=job.job_id, holder=job.lease_owner, attempts=job.attempts
            )
        else:
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


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def scheduled_reconcile(*, store: SQLStore, publisher: Publisher, config: CNSConfig) -> ReconcileReport:
    """Beat's sweep: stamp the marker (the workers' sign that a sweeper is alive), then sweep."""
    now = utcnow()
    store.markers.write(RECONCILE_MARKER, epoch_ms(now))
    return reconcile_jobs(store=store, publisher=publisher, config=config, now=now)


def reconcile_if_overdue(
    *, store: SQLStore, publisher: Publisher, config: CNSConfig, now: datetime | None = None
) -> ReconcileReport | None:
    """A worker's watch: sweep if no sweep started for two reconcile intervals and this process
    takes the turn (exactly one process does); None when it was not due or another took it."""
    now = now or utcnow()
    every_ms = int(TAKEOVER_INTERVALS * config.celery.reconcile_interval_seconds * 1000)
    if not store.markers.take_turn(RECONCILE_MARKER, now=epoch_ms(now), every=every_ms):
        return None
    log.info(
        "reconcile.takeover", reason="no reconcile sweep started recently (beat down or behind a backlog)"
    )
    return reconcile_jobs(store=store, publisher=publisher, config=config, now=now)
