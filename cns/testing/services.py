"""Make sure the local PostgreSQL and Redis that integration tests need are running.

Tests call :func:`ensure_postgres` / :func:`ensure_redis`; if the service is down and the URL
points at this machine, they start it with the same command CI uses and wait for it. If it
still cannot be reached they raise :class:`ServiceUnavailableError`; the test fixtures turn that
into a *failure* under ``CI=true`` (a missing service must not silently skip the suite there)
and into a skip on a developer machine.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
from psycopg import sql

from cns.errors import CNSError
from cns.logging_setup import get_logger
from cns.store.sql.url import libpq_url, masked_url, url_host, with_database

log = get_logger(__name__)

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", None, ""}


class ServiceUnavailableError(CNSError):
    """A service an integration test needs is not reachable and could not be started."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _libpq_url(url: str, *, database: str | None = None) -> str:
    """The SQLAlchemy URL ``url`` as a libpq conninfo URL psycopg accepts."""
    return libpq_url(url, database=database)


def _postgres_up(url: str) -> str | None:
    """None if PostgreSQL answers at ``url``, else the reason it does not."""
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _redis_up(url: str) -> str | None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return None
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__


def _wait(check: Callable[[], str | None], timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    reason = check()
    while reason is not None and time.monotonic() < deadline:
        time.sleep(0.5)
        reason = check()
    return reason


def _run(command: list[str]) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("service.start_failed", command=command[0], error=str(exc))
        return
    if done.returncode != 0:
        log.warning("service.start_failed", command=command[0], stderr=done.stderr.strip()[:300])


def ensure_postgres(url: str = DEFAULT_POSTGRES_URL, *, timeout: float = 30.0) -> None:
    """Return once PostgreSQL answers at ``url``, starting the local cluster if needed."""
    reason = _postgres_up(url)
    if reason is None:
        return
    host = url_host(url)
    if host in _LOCAL_HOSTS and Path("/etc/postgresql").is_dir():
        for version in sorted(p.name for p in Path("/etc/postgresql").iterdir()):
            log.info("service.start", service="postgresql", version=version)
            _run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
        reason = _wait(lambda: _postgres_up(url), timeout)
    if reason is not None:
        shown = masked_url(url)
        raise ServiceUnavailableError(
            f"PostgreSQL is not reachable at {shown}: {reason}", service="postgresql"
        )


def ensure_redis(url: str = DEFAULT_REDIS_URL, *, timeout: float = 15.0) -> None:
    """Return once Redis answers at ``url``, starting a local ``redis-server`` if needed."""
    reason = _redis_up(url)
    if reason is None:
        return
    if urlsplit(url).hostname in _LOCAL_HOSTS:
        log.info("service.start", service="redis")
        _run(REDIS_START)
        reason = _wait(lambda: _redis_up(url), timeout)
    if reason is not None:
        raise ServiceUnavailableError(f"Redis is not reachable at {url}: {reason}", service="redis")


@contextmanager
def temporary_postgres_database(url: str = DEFAULT_POSTGRES_URL, prefix: str = "cns_test") -> Iterator[str]:
    """Create a uniquely named database on the server of ``url``; yield its URL; drop it after.

    Tests get an empty database each session, never touch ``url``'s own data, and leave nothing
    behind (``DROP DATABASE … WITH (FORCE)`` closes connections a failed test may have leaked).
    """
    ensure_postgres(url)
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = _libpq_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
