"""Leases and fencing in the job service: renewal while the handler is busy, refusal of a held
job, the fenced final write, the release that lets a retry claim at once (SQLite store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from cns.config import CNSConfig
from cns.core.records import JobRecord, LeaseTerms
from cns.errors import StoreError
from cns.services.jobs import run_job, submit_ingestion
from cns.services.leases import LeaseKeeper, Periodic, holder_name, process_holder
from cns.store.sql import JobState, SQLStore
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import RecordingPublisher, config_for

TEXT = "Rivers carve valleys over time. Surveys of canyons show it. Therefore erosion shapes land."
OTHER = LeaseTerms("other-host:9", 30.0)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[CNSConfig, SQLStore]]:
    config = config_for(tmp_path)
    with SQLStore.open(config=config) as store:
        yield config, store


def submit(config: CNSConfig, store: SQLStore, text: str = TEXT) -> str:
    return submit_ingestion(
        store=store, publisher=RecordingPublisher(), config=config, source="r.txt", text=text
    ).job.job_id


def manager(config: CNSConfig, store: SQLStore) -> CNSWorkflowManager:
    return CNSWorkflowManager(config, store=store, embedder=HashEmbedder(384), nli=RuleNLI())


def test_the_lease_is_renewed_while_the_handler_is_busy_on_the_cpu(env: tuple[CNSConfig, SQLStore]) -> None:
    """A pure-Python loop holds the interpreter for 2.5 s, five lease lengths: the renewal thread
    still renews, so a second claim made after 2 s is refused as held."""
    config, store = env
    job_id = submit(config, store)
    keeper = LeaseKeeper(store.jobs, seconds=0.5, renew_every=0.1, holder="busy-host:1")
    second: list[Any] = []

    def busy(job: JobRecord) -> dict[str, Any]:
        start = time.monotonic()
        total = 0
        while time.monotonic() - start < 2.5:
            total += sum(i * i for i in range(1000))
            if not second and time.monotonic() - start > 2.0:
                second.append(store.claim_job(job.job_id, max_deliveries=3, lease=OTHER))
        return {"total": total > 0}

    try:
        with structlog.testing.capture_logs() as logs:
            done = run_job(store, job_id, max_deliveries=3, handler=busy, leases=keeper)
    finally:
        keeper.stop()
    assert second[0].started is False and second[0].held_by == "busy-host:1"
    assert done.state is JobState.SUCCESS and done.attempts == 1 and done.result == {"total": True}
    assert not any(e["event"] == "job.lease_lost" for e in logs)


def test_a_job_held_by_a_live_lease_is_left_to_its_holder(env: tuple[CNSConfig, SQLStore]) -> None:
    config, store = env
    job_id = submit(config, store)
    assert store.claim_job(job_id, max_deliveries=3, lease=OTHER).started
    keeper = LeaseKeeper(store.jobs, seconds=30, renew_every=10, holder="me:1")
    calls: list[JobRecord] = []
    with structlog.testing.capture_logs() as logs:
        job = run_job(store, job_id, max_deliveries=3, handler=lambda j: calls.append(j) or {}, leases=keeper)
    keeper.stop()
    assert calls == [] and job.state is JobState.STARTED and job.attempts == 1
    assert job.lease_owner == OTHER.holder
    assert [e["holder"] for e in logs if e["event"] == "job.lease_held"] == [OTHER.holder]


def test_a_delivery_that_lost_its_job_stores_nothing_and_logs_the_refusal(
    env: tuple[CNSConfig, SQLStore],
) -> None:
    """While this delivery runs, its lease runs out and another worker claims the job: the
    document, the SNO and the job's SUCCESS of this delivery are all refused."""
    config, store = env
    job_id = submit(config, store)
    m = manager(config, store)
    winner: list[JobRecord] = []

    def slow_then_late(job: JobRecord) -> dict[str, Any] | JobRecord:
        store.requeue_job(job.job_id)  # what the reconciler does with an expired lease
        claim = store.claim_job(job.job_id, max_deliveries=3, lease=OTHER)  # the new holder
        assert claim.started and claim.job is not None
        winner.append(claim.job)
        return m.ingest_job(job)  # this delivery finishes late, with its old token

    with structlog.testing.capture_logs() as logs:
        late = run_job(store, job_id, max_deliveries=3, handler=slow_then_late)
    assert late.state is JobState.STARTED and late.lease_token == 2 and late.lease_owner == OTHER.holder
    assert len(store) == 0 and store.current_seq() == 0  # no SNO written by the stale delivery
    fenced = [e for e in logs if e["event"] == "job.fenced"]
    assert len(fenced) == 1 and fenced[0]["lease_token"] == 1 and fenced[0]["current_token"] == 2
    assert not any(e["event"] == "job.completed" for e in logs)
    # the new holder's run, with its own token, is the one that counts: one SNO, one write
    done = m.ingest_job(winner[0])
    assert isinstance(done, JobRecord) and done.state is JobState.SUCCESS and done.lease_token == 2
    assert len(store) == 1 and store.current_seq() == 1


def test_a_late_result_for_a_job_completed_elsewhere_is_refused(env: tuple[CNSConfig, SQLStore]) -> None:
    config, store = env
    job_id = submit(config, store)

    def overtaken(job: JobRecord) -> dict[str, Any]:
        store.requeue_job(job.job_id)
        winner = store.claim_job(job.job_id, max_deliveries=3, lease=OTHER).job
        assert winner is not None
        store.complete_job(job.job_id, {"by": "other"}, lease_token=winner.lease_token)
        return {"by": "late"}

    with structlog.testing.capture_logs() as logs:
        job = run_job(store, job_id, max_deliveries=3, handler=overtaken)
    assert job.state is JobState.SUCCESS and job.result == {"by": "other"}
    assert [e["state"] for e in logs if e["event"] == "job.fenced"] == ["SUCCESS"]


def test_a_failing_delivery_releases_its_lease_so_the_retry_claims_at_once(
    env: tuple[CNSConfig, SQLStore],
) -> None:
    config, store = env
    job_id = submit(config, store)
    keeper = LeaseKeeper(store.jobs, seconds=30, renew_every=10, holder="me:1")

    def database_blip(_job: JobRecord) -> dict[str, Any]:
        raise StoreError("connection reset")

    with pytest.raises(StoreError):
        run_job(store, job_id, max_deliveries=3, handler=database_blip, leases=keeper)
    released = store.get_job(job_id)
    assert released is not None and released.state is JobState.STARTED and released.lease_owner is None
    done = run_job(store, job_id, max_deliveries=3, handler=lambda _j: {"ok": True}, leases=keeper)
    keeper.stop()
    assert done.state is JobState.SUCCESS and done.attempts == 2 and done.lease_token == 2


def test_a_renewal_that_finds_the_job_handed_on_marks_the_lease_lost(env: tuple[CNSConfig, SQLStore]) -> None:
    config, store = env
    job_id = submit(config, store)
    keeper = LeaseKeeper(store.jobs, seconds=30, renew_every=3600, holder="me:1")
    claimed = store.claim_job(job_id, max_deliveries=3, lease=keeper.terms).job
    assert claimed is not None
    with keeper.hold(claimed) as lease:
        keeper.renew_all()
        assert not lease.lost.is_set()
        store.requeue_job(job_id)  # the reconciler took it away
        with structlog.testing.capture_logs() as logs:
            keeper.renew_all()
            keeper.renew_all()  # a lost lease is not renewed (nor logged) again
    keeper.stop()
    assert lease.lost.is_set()
    assert [e["job_id"] for e in logs if e["event"] == "job.lease_lost"] == [job_id]


def test_periodic_duties_run_on_their_own_thread_and_survive_errors() -> None:
    calls: list[int] = []
    seen = threading.Event()

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        seen.set()

    duty = Periodic("test-duty", flaky, every=0.01)
    with structlog.testing.capture_logs() as logs:
        duty.start()
        duty.start()  # idempotent: still one thread
        assert seen.wait(10)
        duty.stop()
    assert not duty.running and len(calls) >= 2
    assert any(e["event"] == "periodic.failed" and e["thread"] == "test-duty" for e in logs)


def test_the_holder_names_the_host_and_process() -> None:
    host, _, pid = process_holder().rpartition(":")
    assert host and int(pid) > 0 and holder_name("h", 7) == "h:7"
