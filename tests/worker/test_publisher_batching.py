"""Combined publishes: concurrent callers share one Redis pipeline, and none is lost or sent twice.

The unit tests drive :class:`CeleryPublisher` with a recording fake app (so a failing batch and a
slow one can be staged); the integration test publishes from many threads to the real Redis and
reads the queue back.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis

from cns.config.settings import CNSConfig
from cns.errors import BrokerUnavailable
from cns.worker.celery_app import QUEUE, make_celery
from cns.worker.publisher import CeleryPublisher
from tests.service.service_harness import REDIS_URL


class _Producer:
    def __init__(self, app: _FakeApp) -> None:
        self.app = app
        self.buffer: list[str] | None = None

    @contextmanager
    def batch(self, max_size: int) -> Iterator[None]:
        self.buffer = []
        try:
            yield
            if self.app.fail_batches > 0:
                self.app.fail_batches -= 1
                raise ConnectionError("pipeline failed")
            self.app.batches.append(list(self.buffer))
            self.app.sent.extend(self.buffer)
        finally:
            self.buffer = None


class _FakeApp:
    """Records what ``send_task`` delivered: in a batch (on ``batch`` exit) or at once."""

    def __init__(self, *, fail_batches: int = 0, down: bool = False, send_seconds: float = 0.0) -> None:
        self.sent: list[str] = []
        self.batches: list[list[str]] = []
        self.fail_batches = fail_batches
        self.down = down
        self.send_seconds = send_seconds
        self.lock = threading.Lock()

    @contextmanager
    def producer_or_acquire(self) -> Iterator[_Producer]:
        yield _Producer(self)

    def send_task(self, name: str, *, args: list[str], producer: _Producer | None = None, **_: Any) -> None:
        if self.down:
            raise ConnectionError("broker down")
        time.sleep(self.send_seconds)
        with self.lock:
            if producer is not None and producer.buffer is not None:
                producer.buffer.append(args[0])
            else:
                self.sent.append(args[0])


def _publish_together(publisher: CeleryPublisher, n: int) -> list[BaseException]:
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        start.wait()
        try:
            publisher.publish("cns.process_ingestion", f"job-{i}")
        except BaseException as exc:  # collected and asserted on by the caller
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors


def test_concurrent_publishes_share_batches_and_each_message_goes_out_once() -> None:
    app = _FakeApp(send_seconds=0.002)  # each send takes a moment, so callers overlap
    publisher = CeleryPublisher(app, deadline_seconds=5, queue=QUEUE)  # type: ignore[arg-type]
    assert _publish_together(publisher, 24) == []
    assert sorted(app.sent) == sorted(f"job-{i}" for i in range(24))
    assert app.batches and max(len(b) for b in app.batches) > 1
    assert publisher.batched_messages == sum(len(b) for b in app.batches)


def test_a_lone_publish_is_sent_at_once_without_a_batch() -> None:
    app = _FakeApp()
    publisher = CeleryPublisher(app, deadline_seconds=5, queue=QUEUE)  # type: ignore[arg-type]
    publisher.publish("cns.process_ingestion", "only")
    assert app.sent == ["only"] and app.batches == [] and publisher.batches == 0


def test_a_failed_batch_falls_back_to_each_caller_publishing_alone() -> None:
    app = _FakeApp(fail_batches=1, send_seconds=0.002)
    publisher = CeleryPublisher(app, deadline_seconds=5, queue=QUEUE)  # type: ignore[arg-type]
    assert _publish_together(publisher, 12) == []
    assert sorted(app.sent) == sorted(f"job-{i}" for i in range(12))  # none lost, none twice
    assert app.fail_batches == 0  # the failing batch really happened


def test_a_broker_that_stays_down_still_ends_every_caller_with_broker_unavailable() -> None:
    app = _FakeApp(down=True)
    publisher = CeleryPublisher(app, deadline_seconds=0.5, queue=QUEUE)  # type: ignore[arg-type]
    errors = _publish_together(publisher, 6)
    assert len(errors) == 6 and all(isinstance(e, BrokerUnavailable) for e in errors)
    assert app.sent == []


@pytest.mark.integration
def test_concurrent_publishes_reach_the_real_redis_queue_exactly_once() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc}")
    client.delete(QUEUE)
    config = CNSConfig(broker_url=REDIS_URL)
    publisher = CeleryPublisher(make_celery(config, role="api"), deadline_seconds=5, queue=QUEUE)
    try:
        assert _publish_together(publisher, 40) == []
        queued = [json.loads(m) for m in client.lrange(QUEUE, 0, -1)]
        tasks = sorted(m["headers"]["argsrepr"] for m in queued)
        assert tasks == sorted(repr([f"job-{i}"]) for i in range(40))
        assert {m["headers"]["task"] for m in queued} == {"cns.process_ingestion"}
    finally:
        client.delete(QUEUE)
        client.close()
