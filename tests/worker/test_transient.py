"""A database or broker failure during a job: the delivery holds, releases its claim, requeues.

The task edge (:func:`cns.worker.app.run_delivery`) is called directly with a real store and a
stand-in for Celery's task object; time is a fake clock, so the backoff is checked without
waiting for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from celery.exceptions import Reject, SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as KombuOperationalError

from cns.config import CNSConfig
from cns.errors import BrokerUnavailable, IngestionError, StoreError, StoreUnavailableError
from cns.services.jobs import submit_ingestion
from cns.store.sql import JobState, SQLStore
from cns.worker import transient
from cns.worker.app import run_delivery
from tests.api.api_helpers import RecordingPublisher, config_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(transient.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(transient.time, "sleep", fake.sleep)
    transient.delivered()
    yield fake
    transient.delivered()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[CNSConfig, SQLStore]]:
    config = config_for(tmp_path, celery={"max_deliveries": 3, "job_deadline_seconds": 600})
    with SQLStore.open(config=config) as store:
        yield config, store


def submit(config: CNSConfig, store: SQLStore, text: str = "Tea calms. A trial shows it.") -> str:
    job = submit_ingestion(
        store=store, publisher=RecordingPublisher(), config=config, source="t.txt", text=text
    )
    return job.job.job_id


def delivery(config: CNSConfig, store: SQLStore, job_id: str, handler: Any, started: float) -> Any:
    task = SimpleNamespace(request=SimpleNamespace(retries=0))
    runtime = SimpleNamespace(config=config, store=store, leases=None)
    return run_delivery(task, runtime, job_id, handler, started=started)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        StoreUnavailableError("store get failed: server closed the connection unexpectedly"),
        BrokerUnavailable("the task broker is not reachable"),
        KombuOperationalError("Error 111 connecting to 127.0.0.1:6379"),
        redis.ConnectionError("Connection reset by peer"),
        redis.TimeoutError("Timeout reading from socket"),
    ],
)
def test_database_and_broker_failures_are_transient_even_when_wrapped(error: Exception) -> None:
    assert transient.is_transient_failure(error)
    try:
        try:
            raise error
        except Exception as exc:
            raise IngestionError(f"could not ingest 'a.txt': {exc}") from exc
    except IngestionError as wrapped:
        assert transient.is_transient_failure(wrapped)


def test_other_failures_are_not_transient() -> None:
    assert not transient.is_transient_failure(StoreError("store put failed: UNIQUE constraint failed"))
    assert not transient.is_transient_failure(IngestionError("no readable text"))
    assert not transient.is_transient_failure(RuntimeError("a bug"))


def test_an_interrupted_job_is_released_and_put_back_unacknowledged(env, clock: FakeClock) -> None:
    config, store = env
    job_id = submit(config, store)

    def reset(_job: Any) -> dict[str, Any]:
        raise StoreUnavailableError("store changes_since failed: terminating connection")

    with pytest.raises(Reject) as rejected:
        delivery(config, store, job_id, reset, started=clock.now)
    assert rejected.value.requeue is True
    job = store.get_job(job_id)
    assert job is not None and job.state is JobState.PENDING and job.attempts == 0  # claim undone
    assert job.error is None and clock.sleeps == [0.2]
    with pytest.raises(Reject):  # a second interruption in a row waits longer first
        delivery(config, store, job_id, reset, started=clock.now)
    assert clock.sleeps[-1] == 0.4
    done = delivery(config, store, job_id, lambda _job: {"sno_id": "s1"}, started=clock.now)
    assert done == {"job_id": job_id, "state": "SUCCESS"}
    assert store.get_job(job_id).attempts == 1  # type: ignore[union-attr]  # the two interruptions cost nothing


def test_the_delivery_holds_while_the_store_is_away_then_releases(env, clock: FakeClock) -> None:
    config, store = env
    job_id = submit(config, store)
    store.claim_job(job_id, max_deliveries=3)
    down = {"pings": 0}

    def ping() -> None:
        down["pings"] += 1
        if down["pings"] <= 3:
            raise StoreUnavailableError("store ping failed: database is not accepting connections")
        store.ping()

    released: list[int] = []
    from cns.services.jobs import JobInterrupted

    job = store.get_job(job_id)
    assert job is not None
    cause = JobInterrupted.of(job, StoreUnavailableError("store put failed: connection lost"))
    with pytest.raises(Reject):
        transient.hold_and_requeue(cause, job_id=job_id, budget=30.0, ready=ping, release=released.append)
    assert clock.sleeps == [0.2, 0.4, 0.8, 1.6] and released == [1]


def test_the_hold_ends_within_its_budget_and_still_requeues(env, clock: FakeClock) -> None:
    def never() -> None:
        raise StoreUnavailableError("store ping failed: connection refused")

    with pytest.raises(Reject) as rejected:
        transient.hold_and_requeue(StoreUnavailableError("x"), job_id="j", budget=3.0, ready=never)
    assert rejected.value.requeue is True and sum(clock.sleeps) <= 3.0 + 1e-9


def test_the_soft_time_limit_during_a_hold_still_requeues(clock: FakeClock) -> None:
    def limit() -> None:
        raise SoftTimeLimitExceeded()

    with pytest.raises(Reject):
        transient.hold_and_requeue(StoreUnavailableError("x"), job_id="j", budget=30.0, ready=limit)


def test_the_hold_budget_stays_inside_the_soft_time_limit(clock: FakeClock) -> None:
    config = CNSConfig(celery={"task_soft_time_limit_seconds": 7, "task_time_limit_seconds": 8})
    assert transient.hold_budget(config, started=clock.now) == 6.0
    assert transient.hold_budget(config, started=clock.now - 6.5) == 0.0
    long = CNSConfig()  # 300 s soft limit: the hold is capped on its own
    assert transient.hold_budget(long, started=clock.now) == transient.HOLD_MAX_SECONDS


def test_a_permanent_error_still_fails_the_job_at_once(env, clock: FakeClock) -> None:
    config, store = env
    job_id = submit(config, store)

    def bad(_job: Any) -> dict[str, Any]:
        raise IngestionError("no readable text")

    assert delivery(config, store, job_id, bad, started=clock.now) == {"job_id": job_id, "state": "FAILURE"}
    assert clock.sleeps == []
