"""An in-process token bucket per client (API key id, else client IP).

Buckets refill continuously at ``rate/60`` tokens per second and hold at most ``burst`` tokens;
the table of buckets is bounded (least recently used clients are forgotten first).

This bucket is **per API process**: with N uvicorn workers or N API containers a client could
get N times ``service.rate_limit_per_minute``. So with a Redis broker (every deployment) the API
keeps the buckets in Redis instead (:mod:`cns.api.shared_ratelimit`), shared by all processes,
and uses this one only while Redis does not answer, and when no Redis is configured (tests).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

MAX_CLIENTS = 10_000


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, per_minute // 6))
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    async def take(self, key: str) -> float:
        """:meth:`acquire` for the middleware, which awaits either limiter."""
        return self.acquire(key)

    def acquire(self, key: str) -> float:
        """Take one token for ``key``; return 0 if allowed, else seconds until a token is free."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
            return wait


class Limiter(Protocol):
    """What the rate-limit middleware needs: in-process (:class:`RateLimiter`) or shared in Redis."""

    @property
    def enabled(self) -> bool: ...

    async def take(self, key: str) -> float: ...
