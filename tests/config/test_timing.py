"""The timing relations of the ``celery`` section are checked at load, naming both keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cns.config import CNSConfig
from cns.config.timing import timing_problems
from cns.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

UNSAFE: list[tuple[dict[str, Any], list[str], str]] = [
    ({"job_deadline_seconds": 15},
     ["celery.job_deadline_seconds", "celery.task_time_limit_seconds"],
     "celery.job_deadline_seconds must be longer than celery.task_time_limit_seconds "
     "(got job_deadline_seconds=15, task_time_limit_seconds=360)"),
    ({"lease_seconds": 10, "lease_renew_seconds": 5},
     ["celery.lease_seconds", "celery.lease_renew_seconds"],
     "celery.lease_seconds must be longer than 2 × celery.lease_renew_seconds"),
    ({"lease_seconds": 20, "visibility_timeout_seconds": 20, "task_time_limit_seconds": 10,
      "task_soft_time_limit_seconds": 5},
     ["celery.lease_seconds", "celery.visibility_timeout_seconds"],
     "celery.lease_seconds must be below celery.visibility_timeout_seconds (got lease_seconds=20, "
     "visibility_timeout_seconds=20)"),
    ({"task_time_limit_seconds": 1200, "task_soft_time_limit_seconds": 1100},  # a longer hard limit alone
     ["celery.job_deadline_seconds", "celery.task_time_limit_seconds"],
     "(got job_deadline_seconds=900, task_time_limit_seconds=1200)"),
]  # fmt: skip


@pytest.mark.parametrize(("celery", "keys", "message"), UNSAFE)
def test_an_unsafe_combination_is_refused_naming_its_keys(
    celery: dict[str, Any], keys: list[str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        CNSConfig(celery={**celery, "job_deadline_seconds": celery.get("job_deadline_seconds", 900)})
    error = caught.value
    assert message in error.message and error.message.startswith("invalid configuration: unsafe timing: ")
    assert error.details["keys"][:2] == keys and error.details["key"] == keys[0]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        CNSConfig(celery={"job_deadline_seconds": 15, "lease_renew_seconds": 20})
    assert caught.value.details["keys"] == [
        "celery.job_deadline_seconds", "celery.task_time_limit_seconds",
        "celery.lease_seconds", "celery.lease_renew_seconds",
    ]  # fmt: skip


def test_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_CELERY__JOB_DEADLINE_SECONDS", "15")
    with pytest.raises(ConfigError, match="job_deadline_seconds must be longer"):
        CNSConfig()


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_the_defaults_and_the_shipped_profiles_are_safe(profile: str) -> None:
    config = CNSConfig.load(REPO / "config" / f"{profile}.yaml", auth={"enabled": True})
    assert timing_problems(config.celery) == [] and timing_problems(CNSConfig().celery) == []


def test_the_service_test_limits_are_safe() -> None:
    from tests.service.service_harness import TEST_LIMITS

    values = {key.removeprefix("CNS_CELERY__").lower(): float(v) for key, v in TEST_LIMITS.items()}
    assert timing_problems(CNSConfig(celery=values).celery) == []
