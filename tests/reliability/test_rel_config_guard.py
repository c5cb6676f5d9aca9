"""R19 (settings half): configurations that make Celery lose or duplicate work are refused at load.

The Redis half of R19 (refuse ``maxmemory-policy`` ≠ ``noeviction`` or ``appendonly no`` in the prod
profile, event ``config.redis_unsafe``) needs a product check that does not exist yet.
"""

from __future__ import annotations

from typing import Any

import pytest

from cns.config import CNSConfig
from cns.errors import ConfigError
from tests.reliability.reliability_support import record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(30)]

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
