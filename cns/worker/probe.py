"""Worker liveness that catches silent stalls (test R25 of docs/reliability.md).

A PID check, or a TCP check on Redis, stays green while a worker has stopped consuming: a frozen
Redis, a half-open connection, a consumer stuck after a reconnect (celery#7276 class). This probe
asks the two questions that a stall does fail, and a third that nothing else answers:

1. *control ping*: do workers answer a broadcast over the broker (optionally one named worker,
   so a container can probe itself)? Proves the broker and the workers' event loops are alive.
2. *canary*: does some worker run a real task from the ``cns`` queue within the deadline?
   Proves consumption end to end.
3. *data dir*: has this host's data dir (``data_dir``) at least ``service.data_dir_min_free_mb``
   of free space? On a full disk the worker's caches stop writing and jobs go on without them,
   so nothing else would show it. The probe runs where the worker runs (the compose health
   check runs it inside the worker's container), so this is the worker's own data dir.

The first two share one deadline (10 s by default). ``cns probe`` exits 0 when all pass and 1
otherwise, so it serves as a container health check or a Kubernetes liveness command. The canary queues
behind running work, so a worker busy with a long task for the whole deadline reports unhealthy:
give the probe a deadline and a failure threshold that fit the workload.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cns.config.settings import CNSConfig
from cns.logging_setup import get_logger
from cns.services.disk_space import check_data_dir
from cns.worker.celery_app import QUEUE, make_celery
from cns.worker.publisher import CeleryPublisher

log = get_logger(__name__)

DEFAULT_DEADLINE_SECONDS = 10.0
#: Share of the deadline the control ping may use; the canary gets the rest.
PING_SHARE = 0.4


@dataclass
class ProbeResult:
    """The verdict and what each check said (``ok``, ``ms``, ``error`` or ``workers``)."""

    healthy: bool
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "seconds": round(self.seconds, 2), "checks": self.checks}


def probe_workers(
    config: CNSConfig, *, deadline: float = DEFAULT_DEADLINE_SECONDS, worker: str | None = None
) -> ProbeResult:
    """Run the control ping and the canary within ``deadline`` seconds; never raises."""
    start = time.monotonic()
    app = make_celery(config, role="api")
    publisher = CeleryPublisher(app, deadline_seconds=config.service.publish_timeout_seconds, queue=QUEUE)
    checks: dict[str, dict[str, Any]] = {}
    try:
        checks["control_ping"] = _timed(lambda: _ping(app, deadline * PING_SHARE, worker))
        remaining = max(deadline - (time.monotonic() - start), 0.5)
        if checks["control_ping"]["ok"]:
            checks["canary"] = _timed(lambda: publisher.canary(remaining))
        else:
            checks["canary"] = {"ok": False, "error": "skipped: no worker answered the ping"}
    finally:
        app.close()
    if config.service.data_dir_min_free_mb > 0:
        checks["data_dir"] = _timed(lambda: check_data_dir(config))
    healthy = all(c["ok"] for c in checks.values())
    result = ProbeResult(healthy, checks, time.monotonic() - start)
    (log.info if healthy else log.warning)("probe.result", healthy=healthy, checks=checks, worker=worker)
    return result


def _ping(app: Any, timeout: float, worker: str | None) -> dict[str, Any]:
    destination = [worker] if worker else None
    # limit: return on the first answer (or on the named worker's) instead of waiting out the timeout
    replies = app.control.ping(destination=destination, timeout=timeout, limit=1) or []
    names = sorted(name for reply in replies for name in reply)
    if not names:
        raise TimeoutError(f"no worker answered the control ping within {timeout:.1f} s")
    return {"workers": names}


def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        extra = check() or {}
    except Exception as exc:  # a probe reports, it never raises
        message = str(exc)[:200]
        return {"ok": False, "error": f"{type(exc).__name__}: {message}" if message else type(exc).__name__,
                "ms": round((time.perf_counter() - started) * 1e3, 1)}  # fmt: skip
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1e3, 1), **extra}
