"""The broker safety check (R19, runtime half) against real private ``redis-server`` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from structlog.testing import capture_logs

from cns.config import CNSConfig
from cns.errors import ConfigError
from cns.testing.redis_server import SAFE_ARGS, RedisServer, free_port
from cns.worker.redis_guard import check_broker, check_broker_at_startup, guard_mode, inspect_redis

pytestmark = pytest.mark.integration

UNSAFE_ARGS = ("--appendonly", "no", "--save", "", "--maxmemory-policy", "allkeys-lru")


@pytest.fixture
def unsafe_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "unsafe", *UNSAFE_ARGS) as server:
        yield server


def config_for(url: str, **values: object) -> CNSConfig:
    return CNSConfig(broker_url=url, **values)  # type: ignore[arg-type]


def prod(url: str, mode: str = "auto") -> CNSConfig:
    return config_for(url, profile="prod", auth={"enabled": True}, celery={"redis_safety_check": mode})


def test_inspect_names_both_unsafe_settings(unsafe_redis: RedisServer) -> None:
    safety = inspect_redis(unsafe_redis.url)
    assert safety.verified and not safety.safe
    assert safety.settings == {"maxmemory-policy": "allkeys-lru", "appendonly": "no"}
    assert len(safety.problems) == 2
    assert "maxmemory-policy is 'allkeys-lru', must be 'noeviction'" in safety.problems[0]
    assert "appendonly is 'no', must be 'yes'" in safety.problems[1]


def test_a_safe_server_passes(tmp_path: Path) -> None:
    with RedisServer(tmp_path, *SAFE_ARGS) as server:
        assert inspect_redis(server.url).safe
        assert check_broker(prod(server.url), "api") is not None  # enforced, and nothing to refuse


def test_prod_profile_refuses_and_names_the_event(unsafe_redis: RedisServer) -> None:
    assert guard_mode(prod(unsafe_redis.url)) == "enforce"
    with pytest.raises(ConfigError, match=r"config\.redis_unsafe: .*allkeys-lru.*appendonly") as caught:
        check_broker_at_startup(prod(unsafe_redis.url), "worker")
    assert caught.value.details["key"] == "broker_url"


def test_fixing_the_server_at_runtime_clears_the_refusal(unsafe_redis: RedisServer) -> None:
    client = unsafe_redis.client()
    client.config_set("maxmemory-policy", "noeviction")
    with pytest.raises(ConfigError, match="appendonly"):
        check_broker(prod(unsafe_redis.url), "api")
    client.config_set("appendonly", "yes")
    safety = check_broker(prod(unsafe_redis.url), "api")
    assert safety is not None and safety.safe
    client.close()


def test_dev_profile_only_warns(unsafe_redis: RedisServer) -> None:
    with capture_logs() as events:
        safety = check_broker(config_for(unsafe_redis.url), "api")
    assert safety is not None and len(safety.problems) == 2
    unsafe = [e for e in events if e["event"] == "config.redis_unsafe"]
    assert len(unsafe) == 1 and unsafe[0]["log_level"] == "error" and unsafe[0]["mode"] == "warn"


def test_off_and_non_redis_brokers_are_not_checked(unsafe_redis: RedisServer) -> None:
    assert check_broker(prod(unsafe_redis.url, mode="off"), "api") is None
    assert check_broker(prod("amqp://guest@127.0.0.1:5672//"), "api") is None


def test_unreachable_broker_does_not_block_startup() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(redis.ConnectionError):
        check_broker(prod(url), "api")
    check_broker_at_startup(prod(url), "api")  # logged as config.redis_unchecked, not fatal


def test_disabled_config_command_is_unverified_not_refused(tmp_path: Path) -> None:
    with RedisServer(tmp_path, *UNSAFE_ARGS, "--rename-command", "CONFIG", "") as server:
        safety = check_broker(prod(server.url), "api")
    assert safety is not None and not safety.verified and "unknown command" in safety.reason.lower()
