"""The service tests' stack: :mod:`cns.testing.service_stack` on Redis DB 13, with test limits.

Redis DB 13 is used and flushed (no other test uses it; ``CNS_TEST_SERVICE_REDIS_URL`` picks another
database, so two checkouts can run service tests side by side). Under pytest-xdist, worker ``gwN``
takes the database N below it (13, 12, 11, …), so parallel workers never flush each other's queue.
PostgreSQL gets a temporary database.
Outside CI a missing Redis or PostgreSQL skips the test; under ``CI=true`` it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cns.testing.service_stack import Stack, free_port, parse_json_lines, running_stack, wait_until
from cns.testing.services import ServiceUnavailableError, ensure_redis, in_ci


def _redis_url_for_this_worker(base: str) -> str:
    """``base`` with its database number lowered by the xdist worker index (``gw1`` → one below)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    head, _, db = base.rpartition("/")
    if index == 0 or not db.isdigit():
        return base
    if int(db) - index < 0:
        raise RuntimeError(f"no Redis database left for xdist worker {worker} below {base}")
    return f"{head}/{int(db) - index}"


REDIS_URL = _redis_url_for_this_worker(
    os.environ.get("CNS_TEST_SERVICE_REDIS_URL", "redis://127.0.0.1:6379/13")
)

#: Short limits so time-limit and redelivery tests finish in seconds (soft < hard limit < visibility
#: timeout; lease < visibility timeout, renewed five times per lease; the reconciler every 2 s).
TEST_LIMITS = {
    "CNS_CELERY__VISIBILITY_TIMEOUT_SECONDS": "10",
    "CNS_CELERY__TASK_TIME_LIMIT_SECONDS": "8",
    "CNS_CELERY__TASK_SOFT_TIME_LIMIT_SECONDS": "7",
    "CNS_CELERY__LEASE_SECONDS": "5",
    "CNS_CELERY__LEASE_RENEW_SECONDS": "1",
    "CNS_CELERY__RECONCILE_INTERVAL_SECONDS": "2",
}

__all__ = ["REDIS_URL", "Stack", "free_port", "parse_json_lines", "service_stack", "wait_until"]


@contextmanager
def service_stack(tmp: Path, **env_overrides: str) -> Iterator[Stack]:
    try:
        ensure_redis(REDIS_URL)
    except ServiceUnavailableError as exc:
        if in_ci():
            raise
        pytest.skip(str(exc))
    with running_stack(tmp, REDIS_URL, **{**TEST_LIMITS, **env_overrides}) as stack:
        yield stack
