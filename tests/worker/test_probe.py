"""``cns probe`` without a consuming worker: unhealthy within its deadline, and it says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from cns.config import CNSConfig
from cns.testing.redis_server import RedisServer, free_port
from cns.worker.probe import probe_workers

pytestmark = pytest.mark.integration


def test_no_worker_means_unhealthy_within_the_deadline(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as broker:
        result = probe_workers(CNSConfig(broker_url=broker.url), deadline=2.0)
    assert not result.healthy and result.seconds < 4.0
    assert result.checks["control_ping"]["ok"] is False
    assert "no worker answered the control ping" in result.checks["control_ping"]["error"]
    assert result.checks["canary"] == {"ok": False, "error": "skipped: no worker answered the ping"}


def test_unreachable_broker_is_unhealthy_not_a_crash() -> None:
    result = probe_workers(CNSConfig(broker_url=f"redis://127.0.0.1:{free_port()}/0"), deadline=2.0)
    assert not result.healthy and result.checks["control_ping"]["ok"] is False
    assert result.seconds < 10.0


def test_cli_exits_1_and_prints_one_json_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with RedisServer(tmp_path) as broker:
        monkeypatch.setenv("CNS_BROKER_URL", broker.url)
        outcome = CliRunner().invoke(app, ["probe", "--deadline", "1"])
    assert outcome.exit_code == 1, outcome.output
    verdict = json.loads(outcome.stdout.strip().splitlines()[-1])
    assert verdict["healthy"] is False and set(verdict["checks"]) == {"control_ping", "canary", "data_dir"}
    assert verdict["checks"]["data_dir"]["ok"] is True


def test_a_data_dir_short_of_space_makes_the_probe_unhealthy_and_says_why(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as broker:
        config = CNSConfig(broker_url=broker.url, data_dir=tmp_path, service={"data_dir_min_free_mb": 1e12})
        result = probe_workers(config, deadline=1.0)
    disk = result.checks["data_dir"]
    assert not result.healthy and disk["ok"] is False
    assert disk["error"].startswith(f"DataDirSpaceError: data dir {tmp_path} has ")
