"""Each pytest-xdist process gets its own Redis database, so parallel service tests never share a queue."""

from __future__ import annotations

import pytest

from tests.service.service_harness import _redis_url_for_this_worker


@pytest.mark.parametrize(
    ("worker", "expected"),
    [
        (None, "redis://127.0.0.1:6379/13"),
        ("gw0", "redis://127.0.0.1:6379/13"),
        ("gw1", "redis://127.0.0.1:6379/12"),
        ("gw3", "redis://127.0.0.1:6379/10"),
    ],
)
def test_each_worker_takes_the_database_below_the_previous_one(
    monkeypatch: pytest.MonkeyPatch, worker: str | None, expected: str
) -> None:
    if worker is None:
        monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    else:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    assert _redis_url_for_this_worker("redis://127.0.0.1:6379/13") == expected


def test_running_out_of_databases_is_an_error_that_names_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw4")
    with pytest.raises(RuntimeError, match="gw4"):
        _redis_url_for_this_worker("redis://127.0.0.1:6379/2")
