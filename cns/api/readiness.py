"""``/readyz``: the database answers, the broker answers, and a worker completes a canary task.

Deployments add their own checks (``extra_checks``: the broker's Redis settings in the prod
profile, see :mod:`cns.services.redis_guard`). A PID or TCP check stays green while a worker silently stops consuming (anchors B.2, R25); a
task round-trip with a deadline does not. The canary result is cached for a few seconds so a
probe storm does not flood the queue; while the cache is fresh the last verdict is repeated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import text

from cns.logging_setup import get_logger
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
        extra_checks: Mapping[str, Callable[[], None]] | None = None,
    ) -> None:
        self.store = store
        self.extra_checks = dict(extra_checks or {})
        self.publisher = publisher
        self.canary_timeout = canary_timeout
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, dict[str, Any]]] | None = None

    def check(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        """(ready, per-check results); every check runs even if an earlier one failed."""
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.cache_seconds:
                checks = self._cached[1]
            else:
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
                self._cached = (now, checks)
        ready = all(c["ok"] for c in checks.values())
        if not ready:
            log.warning("readyz.not_ready", failed=[k for k, c in checks.items() if not c["ok"]])
        return ready, checks

    def _database(self) -> None:
        with self.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))


def _timed(check: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        check()
    except Exception as exc:  # a probe reports, it never raises
        return {"ok": False, "error": type(exc).__name__, "ms": round((time.perf_counter() - start) * 1e3, 1)}
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1e3, 1)}
