"""Job services without a broker: delivery counting, poison cap, idempotent reruns, reconciler."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import structlog

from cns.config import CNSConfig
from cns.errors import IngestionError, StoreError, StoreUnavailableError, is_transient
from cns.services.jobs import JobInterrupted, run_job, submit_ingestion
from cns.services.reconcile import RECONCILE_MARKER, reconcile_if_overdue, reconcile_jobs, scheduled_reconcile
from cns.store.sql import JobState, LeaseTerms, SQLStore
from cns.store.sql.schema import utcnow
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import RecordingPublisher, config_for

TEXT = "Coffee improves memory in adults. A trial followed 100 people. Therefore coffee is beneficial."


@pytest.fixture
def env(tmp_path: Path):
    config = config_for(tmp_path, celery={"max_deliveries": 3, "job_deadline_seconds": 600})
    with SQLStore.open(config=config) as store:
        yield config, store, RecordingPublisher()


def submit(env, text: str = TEXT, source: str = "a.txt") -> str:
    config, store, publisher = env
    return submit_ingestion(
        store=store, publisher=publisher, config=config, source=source, text=text
    ).job.job_id


def manager(config: CNSConfig, store: SQLStore) -> CNSWorkflowManager:
    return CNSWorkflowManager(config, store=store, embedder=HashEmbedder(384), nli=RuleNLI())


def test_ingest_job_runs_once_and_a_redelivery_is_a_logged_no_op(env) -> None:
    config, store, _ = env
    job_id = submit(env)
    m = manager(config, store)
    done = run_job(store, job_id, max_deliveries=3, handler=m.ingest_job)
    assert done.state is JobState.SUCCESS and done.attempts == 1 and len(store) == 1
    assert done == store.get_job(job_id)  # the SUCCESS committed with the SNO is what was returned
    sno = store.get(done.result["sno_id"])
    assert sno.metadata["source"] == "a.txt"
    with structlog.testing.capture_logs() as logs:
        again = run_job(store, job_id, max_deliveries=3, handler=m.ingest_job)
    assert again == done and len(store) == 1
    assert any(e["event"] == "job.already_completed" for e in logs)


def test_crash_after_storing_the_sno_reruns_without_duplicates(env) -> None:
    config, store, _ = env
    job_id = submit(env)
    m = manager(config, store)
    store.start_job(job_id)  # delivery 1 died after its SNO was stored, before the job was finished:
    m.ingest_and_evaluate(TEXT, "a.txt")  # (the job's SUCCESS now commits with the SNO, so this
    # state arises when another job stored the same document; the rerun must not duplicate it)
    done = run_job(store, job_id, max_deliveries=3, handler=m.ingest_job)
    assert done.state is JobState.SUCCESS and done.attempts == 2 and len(store) == 1


def test_poison_cap_fails_the_job_with_reason_max_deliveries(env) -> None:
    _, store, _ = env
    job_id = submit(env)
    for _ in range(3):
        store.start_job(job_id)  # three deliveries that crashed their worker
    calls = []
    failed = run_job(store, job_id, max_deliveries=3, handler=lambda job: calls.append(job) or {})
    assert failed.state is JobState.FAILURE and failed.error.startswith("max_deliveries") and calls == []


def test_permanent_errors_fail_at_once_and_transient_ones_propagate(env) -> None:
    _, store, _ = env
    job_id = submit(env)

    def bad_document(_job):
        raise IngestionError("no readable text")

    failed = run_job(store, job_id, max_deliveries=3, handler=bad_document)
    assert failed.state is JobState.FAILURE and "no readable text" in failed.error
    other = submit(env, text="Another document entirely.", source="b.txt")

    def database_blip(_job):
        raise StoreError("connection reset")

    with pytest.raises(StoreError):
        run_job(store, other, max_deliveries=3, handler=database_blip)
    assert store.get_job(other).state is JobState.STARTED


def test_a_database_reset_inside_ingestion_interrupts_the_delivery_and_never_fails_the_job(
    env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingestion wraps its errors in IngestionError; a lost connection must still not fail the job."""
    config, store, _ = env
    job_id = submit(env)
    m = manager(config, store)

    def reset(*_args, **_kwargs):
        raise StoreUnavailableError(
            "store changes_since failed: terminating connection due to administrator command"
        )

    monkeypatch.setattr(store, "changes_since", reset)  # the reference sync's read, mid-ingestion
    with pytest.raises(JobInterrupted) as caught:
        run_job(store, job_id, max_deliveries=3, handler=m.ingest_job)
    assert is_transient(caught.value) and caught.value.details == {"job_id": job_id, "attempt": 1}
    assert "terminating connection" in caught.value.message
    interrupted = store.get_job(job_id)
    assert interrupted.state is JobState.STARTED and interrupted.error is None and len(store) == 0
    released = store.release_job(job_id, attempt=1, deadline=utcnow() + timedelta(seconds=60))
    assert released is not None and released.state is JobState.PENDING and released.attempts == 0
    monkeypatch.undo()
    done = run_job(store, job_id, max_deliveries=3, handler=m.ingest_job)
    assert done.state is JobState.SUCCESS and done.attempts == 1 and len(store) == 1


def test_a_transient_cause_wrapped_in_a_permanent_error_interrupts_too(env) -> None:
    _, store, _ = env
    job_id = submit(env)

    def wrapped_blip(_job):
        try:
            raise StoreUnavailableError("store put failed: server closed the connection unexpectedly")
        except StoreUnavailableError as exc:
            raise IngestionError(f"could not ingest 'a.txt': {exc}") from exc

    with pytest.raises(JobInterrupted):
        run_job(store, job_id, max_deliveries=3, handler=wrapped_blip)
    assert store.get_job(job_id).state is JobState.STARTED  # not FAILURE: nothing was wrong with it


def test_reconciler_republishes_lost_jobs_only_when_the_queue_is_empty(env) -> None:
    config, store, publisher = env
    publisher.down = True
    with pytest.raises(Exception, match="did not accept"):
        submit(env)
    publisher.down = False
    lost = store.list_jobs()[0].job_id
    publisher.sent = [("x", ("backlog",))]  # a non-empty queue: the job may still be queued
    assert reconcile_jobs(store=store, publisher=publisher, config=config).deferred == 1
    publisher.sent = []
    report = reconcile_jobs(store=store, publisher=publisher, config=config)
    assert report.requeued == [lost] and publisher.sent == [("cns.process_ingestion", (lost,))]
    assert store.overdue_jobs() == []


def test_reconciler_requeues_silent_started_jobs_and_fails_them_at_the_cap(env) -> None:
    config, store, publisher = env
    job_id = submit(env)
    store.start_job(job_id)
    later = utcnow() + timedelta(seconds=config.celery.job_deadline_seconds + 1)
    assert reconcile_jobs(store=store, publisher=publisher, config=config, now=later).requeued == [job_id]
    assert store.get_job(job_id).state is JobState.PENDING
    store.start_job(job_id)
    store.start_job(job_id)
    later = utcnow() + timedelta(seconds=config.celery.job_deadline_seconds + 1)
    report = reconcile_jobs(store=store, publisher=publisher, config=config, now=later)
    assert report.failed == [job_id] and store.get_job(job_id).error.startswith("max_deliveries")


def test_workers_share_the_population_through_the_store(env) -> None:
    """G14: what one worker admitted is in another worker's novelty reference on its next task."""
    config, store, _ = env
    first, second = manager(config, store), manager(config, store)
    assert len(second.reference_index()) == 0
    sno = first.ingest_and_evaluate(TEXT, "a.txt")
    assert sno.trust_score >= config.thresholds.novelty_reference_trust
    assert second.reference_index().ids() == [sno.sno_id]
    store.delete_document(sno.metadata["document_id"])
    assert second.reference_index().ids() == []


def test_reconciler_hands_on_jobs_whose_lease_ran_out_and_leaves_live_ones(env) -> None:
    config, store, publisher = env
    dead, alive, capped = (
        submit(env),
        submit(env, "Another text here.", "b.txt"),
        submit(env, "Third.", "c.txt"),
    )
    store.claim_job(dead, max_deliveries=3, lease=LeaseTerms("gone:1", -1.0))  # its worker died a lease ago
    store.claim_job(alive, max_deliveries=3, lease=LeaseTerms("busy:2", 30.0))
    for _ in range(3):
        store.start_job(capped)
    store.jobs.release_lease(capped, 3, reserve_seconds=-1.0)  # third delivery died too: at the cap
    publisher.sent = []
    with structlog.testing.capture_logs() as logs:
        report = reconcile_jobs(store=store, publisher=publisher, config=config)
    assert report.requeued == [dead] and report.failed == [capped]
    assert publisher.sent == [("cns.process_ingestion", (dead,))]
    requeued = store.get_job(dead)
    assert requeued.state is JobState.PENDING and requeued.lease_owner is None and requeued.attempts == 1
    assert store.get_job(alive).state is JobState.STARTED  # a renewing worker keeps its job
    assert store.get_job(capped).error.startswith("max_deliveries")
    assert [e["holder"] for e in logs if e["event"] == "reconcile.lease_expired"] == ["gone:1"]
    # the frozen worker of `dead` wakes up: it can neither renew nor complete
    assert not store.jobs.renew_lease(dead, 1, seconds=30)
    assert store.claim_job(dead, max_deliveries=3, lease=LeaseTerms("new:3", 30.0)).started
    assert store.complete_job(dead, {"late": True}, lease_token=1).state is JobState.STARTED


def test_workers_sweep_only_when_no_sweep_started_for_two_intervals(env) -> None:
    config, store, publisher = env
    interval = config.celery.reconcile_interval_seconds
    start = utcnow()
    assert scheduled_reconcile(store=store, publisher=publisher, config=config).to_dict() == {
        "requeued": 0, "failed": 0, "deferred": 0,
    }  # fmt: skip
    soon = start + timedelta(seconds=1.5 * interval)
    assert reconcile_if_overdue(store=store, publisher=publisher, config=config, now=soon) is None
    late = start + timedelta(seconds=2 * interval + 1)
    first = reconcile_if_overdue(store=store, publisher=publisher, config=config, now=late)
    again = reconcile_if_overdue(store=store, publisher=publisher, config=config, now=late)
    assert first is not None and again is None  # one worker takes the turn
    assert store.markers.read(RECONCILE_MARKER) == int(late.timestamp() * 1000)
