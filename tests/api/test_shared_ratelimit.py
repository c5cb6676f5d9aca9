"""The Redis token bucket every API process shares, its fallback, and the worker count of ``cns serve``."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis
import structlog

from cns.api.app import rate_limiter
from cns.api.ratelimit import RateLimiter
from cns.api.shared_ratelimit import KEY_PREFIX, SharedRateLimiter
from cns.cli.service_cmd import MAX_AUTO_WORKERS, serve_workers
from cns.config.settings import CNSConfig
from cns.testing.redis_server import free_port
from tests.service.service_harness import REDIS_URL


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc}")


@pytest.mark.integration
def test_two_processes_draw_from_one_bucket_like_the_in_process_limiter() -> None:
    _redis_or_skip()
    client = f"key:{uuid.uuid4().hex}"

    async def run() -> list[float]:
        first = SharedRateLimiter(REDIS_URL, RateLimiter(60, burst=3))  # two API processes
        second = SharedRateLimiter(REDIS_URL, RateLimiter(60, burst=3))
        try:
            waits = [await first.take(client), await second.take(client), await first.take(client)]
            waits += [await second.take(client), await first.take("key:someone-else")]
            return waits
        finally:
            await first.aclose()
            await second.aclose()

    waits = asyncio.run(run())
    assert waits[:3] == [0.0, 0.0, 0.0]  # the burst of 3, whichever process takes it
    assert 0.9 < waits[3] <= 1.0  # then one token per second (60 per minute), as in-process
    assert waits[4] == 0.0  # another client has its own bucket
    ttl = redis.Redis.from_url(REDIS_URL).pttl(KEY_PREFIX + client)
    assert 0 < ttl <= 5000  # a bucket expires once it would be full again: Redis does not fill up
    redis.Redis.from_url(REDIS_URL).delete(KEY_PREFIX + client, KEY_PREFIX + "key:someone-else")


def test_without_redis_the_process_uses_its_own_bucket_and_says_so_once() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    async def run() -> list[float]:
        limiter = SharedRateLimiter(dead, RateLimiter(60, burst=2))
        try:
            return [await limiter.take("ip:1.2.3.4") for _ in range(3)]
        finally:
            await limiter.aclose()

    with structlog.testing.capture_logs() as logs:
        waits = asyncio.run(run())
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0  # the local bucket still limits
    assert [e["event"] for e in logs].count("api.rate_limit_local") == 1


def test_the_shared_limiter_is_used_only_with_a_real_redis_broker_and_a_limit() -> None:
    redis_broker = CNSConfig(broker_url="redis://127.0.0.1:6379/3")
    assert isinstance(rate_limiter(redis_broker, real_broker=True), SharedRateLimiter)
    assert isinstance(rate_limiter(redis_broker, real_broker=False), RateLimiter)  # tests' fake publisher
    memory = CNSConfig(broker_url="memory://")
    assert isinstance(rate_limiter(memory, real_broker=True), RateLimiter)
    unlimited = CNSConfig(broker_url="redis://127.0.0.1:6379/3", service={"rate_limit_per_minute": 0})
    assert isinstance(rate_limiter(unlimited, real_broker=True), RateLimiter)


def test_serve_runs_one_worker_per_cpu_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(2)))
    assert serve_workers(CNSConfig()) == 2
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(32)))
    assert serve_workers(CNSConfig()) == MAX_AUTO_WORKERS
    assert serve_workers(CNSConfig(service={"workers": 3})) == 3
    assert serve_workers(CNSConfig(service={"workers": 3}), requested=5) == 5
