"""The rate limit shared by every API process: token buckets in the broker's Redis.

``cns serve`` runs several uvicorn worker processes by default, and a deployment may run several
API containers. With an in-process bucket each of N processes would grant a client its own
``service.rate_limit_per_minute``, N times the configured limit. Here the bucket of a client
lives in Redis and one Lua script refills and takes a token atomically, on Redis's clock, so all
processes draw from the same bucket and the limit means what it says.

The buckets follow the in-process :class:`~cns.api.ratelimit.RateLimiter` exactly (same rate,
same burst, same "seconds until a token" answer) and expire once full again. The call is async
(it runs on the event loop without blocking it) with a short socket timeout; when Redis does not
answer, the process falls back to its own in-process bucket and logs ``api.rate_limit_local``
once per outage — a limit per process is better than none, and a Redis outage must not turn
into refused requests (the broker's own outage already answers 503 where it matters).
"""

from __future__ import annotations

import math
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from cns.api.ratelimit import RateLimiter
from cns.logging_setup import get_logger

log = get_logger(__name__)

KEY_PREFIX = "cns:ratelimit:"
SOCKET_TIMEOUT_SECONDS = 0.25

#: KEYS[1] the bucket; ARGV rate (tokens/s), burst. Returns the seconds until a token (0: taken).
TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


class SharedRateLimiter:
    """Token buckets in Redis at ``url``; ``local`` (same settings) while Redis does not answer."""

    def __init__(self, url: str, local: RateLimiter) -> None:
        self.url = url
        self.local = local
        self._client: aioredis.Redis | None = None
        self._script: Any = None
        self._degraded = False

    @property
    def enabled(self) -> bool:
        return self.local.enabled

    async def take(self, key: str) -> float:
        """Take one token for ``key``; 0 if allowed, else seconds until a token is free."""
        if not self.enabled:
            return 0.0
        try:
            wait = float(
                await self._bucket()(keys=[KEY_PREFIX + key], args=[self.local.rate, self.local.burst])
            )
        except (RedisError, OSError) as exc:
            if not self._degraded:
                self._degraded = True
                log.warning("api.rate_limit_local", reason=type(exc).__name__, redis=self._shown_url())
            return self.local.acquire(key)
        if self._degraded:
            self._degraded = False
            log.info("api.rate_limit_shared", redis=self._shown_url())
        return wait if math.isfinite(wait) else 0.0

    def _bucket(self) -> Any:
        # made on first use, inside the event loop that will use it (an asyncio client is tied to it)
        if self._client is None:
            self._client = aioredis.Redis.from_url(
                self.url, socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS
            )
            self._script = self._client.register_script(TOKEN_BUCKET)
        return self._script

    def _shown_url(self) -> str:
        return self.url.split("@")[-1]  # no password in logs

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
