"""The benchmarks' stack: :mod:`cns.testing.service_stack` on Redis DB 14, quiet logs, graceful stop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cns.testing.service_stack import Stack, running_stack

REDIS_URL = "redis://127.0.0.1:6379/14"

__all__ = ["REDIS_URL", "Stack", "stack"]


@contextmanager
def stack(logs: Path, *, redis_url: str = REDIS_URL, **overrides: str) -> Iterator[Stack]:
    """API and workers on a temporary database; SIGTERM on exit so workers finish their task.

    ``redis_url`` names a Redis database the run may flush (DB 14 unless another is given).
    """
    quiet = {"CNS_LOG_LEVEL": "WARNING", **overrides}
    with running_stack(logs, redis_url, db_prefix="cns_bench", graceful_stop=True, **quiet) as s:
        yield s
