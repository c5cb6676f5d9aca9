"""Refuse a broker Redis that can silently lose queued work (test R19 of docs/reliability.md).

Celery keeps every waiting message, and the ``unacked`` record of every running one, as plain
Redis keys. Two server settings make those keys disappear without an error anyone would see:

* ``maxmemory-policy`` other than ``noeviction``: under memory pressure Redis *evicts* keys, so
  the queue list or the unacked hash can vanish; with ``noeviction`` a full Redis refuses writes
  instead, which the API turns into a 503 the client can retry.
* ``appendonly no``: a crash or restart drops everything written since the last RDB snapshot
  (or everything, with snapshots off). The reconciler recovers such jobs from the database only
  after ``celery.job_deadline_seconds``.

``celery.redis_safety_check`` decides what happens: ``enforce`` (the default in the prod profile)
refuses to start the API or a worker and fails ``/readyz``; ``warn`` (elsewhere) logs the same
``config.redis_unsafe`` event and goes on; ``off`` skips the check. Managed Redis services often
disable ``CONFIG``: the check then logs ``config.redis_unverified`` and does not refuse, since it
cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import redis

from cns.config.settings import CNSConfig
from cns.errors import ConfigError
from cns.logging_setup import get_logger

log = get_logger(__name__)

GuardMode = Literal["enforce", "warn", "off"]

#: Server setting → the value that cannot lose queued work, and why another value can.
REQUIRED: dict[str, tuple[str, str]] = {
    "maxmemory-policy": ("noeviction", "under memory pressure Redis evicts queued and unacked tasks"),
    "appendonly": ("yes", "a Redis crash or restart loses every task written since the last snapshot"),
}


@dataclass(frozen=True)
class RedisSafety:
    """What the broker's ``CONFIG GET`` said; ``verified`` is False when it could not be asked."""

    verified: bool
    settings: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    reason: str = ""

    @property
    def safe(self) -> bool:
        return self.verified and not self.problems


def guard_mode(config: CNSConfig) -> GuardMode:
    """``auto`` means enforce in the prod profile and warn in dev and test."""
    mode = config.celery.redis_safety_check
    if mode == "auto":
        return "enforce" if config.profile == "prod" else "warn"
    return mode


def is_redis_url(url: str) -> bool:
    return urlsplit(url).scheme in ("redis", "rediss", "unix")


def inspect_redis(url: str, *, timeout: float = 2.0) -> RedisSafety:
    """Read the settings of :data:`REQUIRED` from the server at ``url``.

    Raises :class:`redis.ConnectionError` / :class:`redis.TimeoutError` when the server does not
    answer: "unreachable" is not "unsafe", and callers treat the two differently.
    """
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        settings: dict[str, str] = {}
        for name in REQUIRED:
            answer = client.config_get(name)
            settings.update({str(k): str(v) for k, v in answer.items()})
    except redis.ResponseError as exc:  # CONFIG disabled or renamed, or ACL denies it
        return RedisSafety(verified=False, reason=str(exc)[:200])
    finally:
        client.close()
    problems = tuple(
        f"{name} is {settings.get(name, 'unset')!r}, must be {wanted!r}: {why}"
        for name, (wanted, why) in REQUIRED.items()
        if settings.get(name, "").lower() != wanted
    )
    return RedisSafety(verified=True, settings=settings, problems=problems)


def check_broker(config: CNSConfig, component: str) -> RedisSafety | None:
    """Inspect the broker and log the verdict; raise :class:`ConfigError` when enforcing.

    Returns None when the check is off or the broker is not Redis. Connection errors propagate
    (see :func:`inspect_redis`).
    """
    mode = guard_mode(config)
    if mode == "off" or not is_redis_url(config.broker_url):
        return None
    safety = inspect_redis(config.broker_url, timeout=config.service.publish_timeout_seconds)
    if not safety.verified:
        log.warning("config.redis_unverified", component=component, reason=safety.reason, mode=mode)
    elif safety.problems:
        log.error(
            "config.redis_unsafe",
            component=component,
            mode=mode,
            profile=config.profile,
            problems=list(safety.problems),
            fix="CONFIG SET maxmemory-policy noeviction; CONFIG SET appendonly yes (and in redis.conf)",
        )
        if mode == "enforce":
            raise ConfigError(
                "config.redis_unsafe: the broker Redis can lose queued tasks: "
                + "; ".join(safety.problems)
                + " (set celery.redis_safety_check to 'warn' to run anyway)",
                key="broker_url",
                problems=list(safety.problems),
            )
    return safety


def check_broker_at_startup(config: CNSConfig, component: str) -> None:
    """Startup form of :func:`check_broker`: an unreachable broker is logged, not fatal.

    A process must be able to start while Redis is still starting (the API answers 503 and
    ``/readyz`` re-runs the check); an unsafe Redis in enforce mode still refuses the start.
    """
    try:
        check_broker(config, component)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        log.warning("config.redis_unchecked", component=component, reason=type(exc).__name__)
