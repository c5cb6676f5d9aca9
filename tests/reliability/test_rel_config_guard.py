"""R19: configurations that make Celery lose or duplicate work are refused.

* settings half: inconsistent time limits, job deadline, lease and prefetch are refused when the
  config loads, with an error naming the keys;
* Redis half: in the prod profile a broker Redis with ``maxmemory-policy`` ≠ ``noeviction`` or
  ``appendonly no`` makes the API and the worker refuse to start (event ``config.redis_unsafe``),
  and a runtime change to such a setting makes ``/readyz`` fail.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cns.config import CNSConfig
from cns.errors import ConfigError
from cns.testing.redis_server import RedisServer
from cns.worker.signals import EXIT_CONFIG
from tests.reliability.reliability_support import record
from tests.service.service_harness import Stack, free_port, parse_json_lines, service_stack, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]

UNSAFE: list[tuple[str, dict[str, Any], str]] = [
    ("hard limit = visibility timeout",
     {"celery": {"task_time_limit_seconds": 10, "task_soft_time_limit_seconds": 5, "visibility_timeout_seconds": 10}},
     "must be below celery.visibility_timeout_seconds"),
    ("hard limit > visibility timeout",
     {"celery": {"task_time_limit_seconds": 30, "task_soft_time_limit_seconds": 5, "visibility_timeout_seconds": 10}},
     "must be below celery.visibility_timeout_seconds"),
    ("soft limit >= hard limit",
     {"celery": {"task_time_limit_seconds": 8, "task_soft_time_limit_seconds": 8, "visibility_timeout_seconds": 10}},
     "task_soft_time_limit_seconds must be below"),
    ("job deadline 15 s < hard limit 360 s",
     {"celery": {"job_deadline_seconds": 15}},
     "celery.job_deadline_seconds must be longer than celery.task_time_limit_seconds"),
    ("lease not below visibility timeout",
     {"celery": {"lease_seconds": 3600}},
     "celery.lease_seconds must be below celery.visibility_timeout_seconds"),
    ("lease renewed less than twice per lease",
     {"celery": {"lease_seconds": 30, "lease_renew_seconds": 20}},
     "celery.lease_seconds must be longer than 2 × celery.lease_renew_seconds"),
    ("prefetch 4 with acks_late (prod)",
     {"profile": "prod", "auth": {"enabled": True}, "celery": {"prefetch_multiplier": 4}},
     "prefetch_multiplier must be 1"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "values", "message"), UNSAFE, ids=[u[0] for u in UNSAFE])
def test_r19_unsafe_worker_settings_are_refused(case: str, values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CNSConfig(**values)
    safe = {**values, "celery": {"prefetch_multiplier": 1}}  # the defaults are consistent
    assert CNSConfig(**safe).celery.prefetch_multiplier == 1
    record(
        f"R19[{case}]",
        f"settings: {case}",
        f"ConfigError at load: '…{message}…'; nothing starts with it",
        lost=0,
        duplicated=0,
    )


UNSAFE_REDIS = ("--appendonly", "no", "--save", "", "--maxmemory-policy", "allkeys-lru")


def _events(stack: Stack, name: str, event: str) -> list[dict[str, Any]]:
    lines = [ln for ln in stack.log_lines().get(name, []) if ln.startswith("{")]
    return [e for e in parse_json_lines(lines) if e.get("event") == event]


def _readyz(stack: Stack) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{stack.api_url}/readyz", timeout=15)
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


def test_r19_prod_profile_refuses_an_unsafe_broker_redis(tmp_path: Path) -> None:
    prod = {"CNS_PROFILE": "prod", "CNS_AUTH__ENABLED": "true"}
    with (
        RedisServer(tmp_path / "redis", *UNSAFE_REDIS) as broker,
        service_stack(tmp_path, CNS_BROKER_URL=broker.url, **prod) as stack,
    ):
        api = stack.start(
            "api", [sys.executable, "-m", "cns.cli.service_cmd", "serve", "--port", str(free_port())]
        )
        assert api.wait(timeout=60) != 0  # uvicorn: "Application startup failed"
        refused_api = _events(stack, "api", "config.redis_unsafe")
        assert refused_api and refused_api[0]["component"] == "api" and len(refused_api[0]["problems"]) == 2
        stack.start_worker()
        assert stack.procs["worker"].wait(timeout=60) == EXIT_CONFIG
        assert _events(stack, "worker", "config.redis_unsafe") and _events(stack, "worker", "worker.refused")
        for name in ("api", "worker"):
            stack.kill(name)

        client = broker.client()
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("appendonly", "yes")
        stack.start_worker()
        stack.start_api()
        wait_until(lambda: _readyz(stack)[0] == 200, 60, "/readyz to report ready on a safe Redis")
        client.config_set("maxmemory-policy", "allkeys-lru")  # someone loosens it at runtime
        changed = time.monotonic()
        wait_until(lambda: _readyz(stack)[0] == 503, 30, "/readyz to notice the unsafe setting")
        noticed = time.monotonic() - changed
        status, body = _readyz(stack)
        assert status == 503 and body["checks"]["broker_config"]["ok"] is False
        assert body["checks"]["worker_canary"]["ok"] is True  # only the broker setting is wrong
        assert stack.procs["api"].poll() is None and stack.procs["worker"].poll() is None
        client.close()
    record(
        "R19[redis]",
        "prod profile, broker Redis with maxmemory-policy allkeys-lru and appendonly no; "
        "later loosened at runtime with CONFIG SET",
        f"API refused to start and the worker exited {EXIT_CONFIG}, both logging config.redis_unsafe; "
        f"on a safe Redis both started; the runtime change made /readyz 503 (broker_config) in {noticed:.1f} s",
        lost=0,
        duplicated=0,
    )
