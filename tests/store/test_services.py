"""The helpers that bring up PostgreSQL and Redis for integration tests."""

from __future__ import annotations

import time

import psycopg
import pytest
import redis

from cns.testing.services import (
    DEFAULT_POSTGRES_URL,
    DEFAULT_REDIS_URL,
    ServiceUnavailableError,
    ensure_postgres,
    ensure_redis,
    in_ci,
    temporary_postgres_database,
)


def fail_or_skip(exc: ServiceUnavailableError) -> None:
    if in_ci():
        pytest.fail(str(exc))
    pytest.skip(str(exc))


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("", False), ("false", False)])
def test_in_ci_reads_the_ci_variable(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_unreachable_remote_services_raise_without_start_attempts() -> None:
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError, match="PostgreSQL is not reachable") as info:
        ensure_postgres("postgresql+psycopg://u:topsecret@db.invalid:5432/x", timeout=1)
    assert "topsecret" not in str(info.value)
    with pytest.raises(ServiceUnavailableError, match="Redis is not reachable"):
        ensure_redis("redis://redis.invalid:6379/0", timeout=1)
    assert time.monotonic() - started < 15


@pytest.mark.integration
def test_local_services_are_up_after_ensure() -> None:
    try:
        ensure_postgres(DEFAULT_POSTGRES_URL)
        ensure_redis(DEFAULT_REDIS_URL)
    except ServiceUnavailableError as exc:
        fail_or_skip(exc)
    client = redis.Redis.from_url(DEFAULT_REDIS_URL)
    try:
        assert client.ping() is True
    finally:
        client.close()


@pytest.mark.integration
def test_temporary_database_is_created_and_dropped() -> None:
    try:
        ensure_postgres(DEFAULT_POSTGRES_URL)
    except ServiceUnavailableError as exc:
        fail_or_skip(exc)
    with temporary_postgres_database(DEFAULT_POSTGRES_URL, prefix="cns_test_tmp") as url:
        name = url.rsplit("/", 1)[1]
        assert name.startswith("cns_test_tmp_")
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (name,)
    with psycopg.connect(DEFAULT_POSTGRES_URL.replace("postgresql+psycopg", "postgresql")) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert left == (0,)
