"""``/readyz``: the database answers, the broker answers, and a worker completes a canary task.

Deployments add their own checks (``extra_checks``: the broker's Redis settings in the prod
profile, see :mod:`cns.worker.redis_guard`; the data dir's free space,
:mod:`cns.services.disk_space`, whose failure names the path and the numbers). A PID or TCP check stays green while a worker
silently stops consuming; a task round-trip with a deadline does not.

A probe storm must cost one check, not one per call: concurrent callers share the check in flight
(they wait on an async lock, holding no server thread, so other routes keep their thread pool),
and its verdict is cached for ``cache_seconds`` *after it finished* — timestamping it when it
started made every queued caller of a slow check (a 5 s canary) run the whole check again, one
after another, each leaving a canary task in the queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import anyio

from cns.logging_setup import get_logger
from cns.services.disk_space import DataDirSpaceError
from cns.store.sql import SQLStore

log = get_logger(__name__)


class CanaryPublisher(Protocol):
    def ping(self) -> None: ...

    def canary(self, timeout: float) -> None: ...


class ReadinessProbe:
    def __init__(
        self,
        store: SQLStore,
        publisher: CanaryPublisher,
        *,
        canary_timeout: float = 5.0,
        cache_seconds: float = 5.0,
        extra_checks: Mapping[str, Callable[[], object]] | None = None,
    ) -> None:
        self.store = store
        self.extra_checks = dict(extra_checks or {})
        self.publisher = publisher
        self.canary_timeout = canary_timeout
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._async_lock: anyio.Lock | None = None
        self._cached: tuple[float, dict[str, dict[str, Any]]] | None = None
        self.runs = 0  # how many times the checks actually ran (tests and logs)

    def _fresh(self) -> dict[str, dict[str, Any]] | None:
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        return None

    async def check_async(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """:meth:`check` for the event loop: one check in flight, shared by every concurrent caller."""
        if self._fresh() is None:
            if self._async_lock is None:
                self._async_lock = anyio.Lock()
            async with self._async_lock:
                if self._fresh() is None:
                    await anyio.to_thread.run_sync(self.check)
        return self.check()

    def check(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """(ready, per-check results); every check runs even if an earlier one failed."""
        with self._lock:
            fresh = self._fresh()
            if fresh is not None:
                checks = fresh
            else:
                self.runs += 1
                checks = {
                    "database": _timed(self._database),
                    "broker": _timed(self.publisher.ping),
                }
                if checks["broker"]["ok"]:
                    checks["worker_canary"] = _timed(lambda: self.publisher.canary(self.canary_timeout))
                else:
                    checks["worker_canary"] = {"ok": False, "error": "skipped: broker unavailable"}
                for name, extra in self.extra_checks.items():
                    checks[name] = _timed(extra)
                self._cached = (time.monotonic(), checks)  # fresh from when the verdict is known
        ready = all(c["ok"] for c in checks.values())
        if not ready:
            log.warning("readyz.not_ready", failed=[k for k, c in checks.items() if not c["ok"]])
        return ready, checks

    def _database(self) -> None:
        self.store.ping()


def _timed(check: Any) -> dict[str, Any]:
    """Run ``check``: ok and its time, plus what it returned (a dict) or why it failed.

    Only the type of an unexpected error is shown (its message may carry a URL or a host); the
    data dir check's message is written for the operator and shown whole as ``reason``.
    """
    start = time.perf_counter()
    try:
        found = check()
    except DataDirSpaceError as exc:
        return {"ok": False, "error": type(exc).__name__, "reason": exc.message,
                "ms": round((time.perf_counter() - start) * 1e3, 1)}  # fmt: skip
    except Exception as exc:  # a probe reports, it never raises
        return {"ok": False, "error": type(exc).__name__, "ms": round((time.perf_counter() - start) * 1e3, 1)}
    extra = found if isinstance(found, dict) else {}
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1e3, 1), **extra}
