"""Liveness, readiness (database, broker, worker canary) and Prometheus metrics."""

from __future__ import annotations

from pathlib import Path

from tests.api.api_helpers import api_client
from tests.api.test_api_reads import seed


def test_healthz_and_readyz(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, _, publisher):
        assert client.get("/healthz").json() == {"status": "ok", "checks": {}}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and set(ready.json()["checks"]) == {
            "database",
            "broker",
            "worker_canary",
            "data_dir",
        }
        assert ready.json()["checks"]["data_dir"]["free_mb"] > 0
        client.app.state.services.readiness.cache_seconds = 0
        publisher.canary_ok = False
        stalled = client.get("/readyz")
        assert stalled.status_code == 503 and stalled.json()["checks"]["worker_canary"]["ok"] is False
        publisher.down = True
        down = client.get("/readyz").json()["checks"]
        assert down["broker"]["ok"] is False and down["worker_canary"]["ok"] is False


def test_readyz_reports_a_data_dir_short_of_free_space(tmp_path: Path) -> None:
    with api_client(tmp_path, service={"data_dir_min_free_mb": 1e12}) as (client, _, _publisher):
        answer = client.get("/readyz")
    disk = answer.json()["checks"]["data_dir"]
    assert answer.status_code == 503 and answer.json()["status"] == "not_ready"
    assert disk["ok"] is False and disk["error"] == "DataDirSpaceError"
    assert str(tmp_path / "data") in disk["reason"] and "MiB free" in disk["reason"]
    assert "service.data_dir_min_free_mb" in disk["reason"]
    with api_client(tmp_path, service={"data_dir_min_free_mb": 0}) as (client, _, _publisher):
        assert "data_dir" not in client.get("/readyz").json()["checks"]  # 0 turns the check off


def test_metrics_report_jobs_latency_trust_and_queue(tmp_path: Path, embedder) -> None:
    with api_client(tmp_path) as (client, store, _):
        seed(store, embedder)
        job_id = client.post("/ingest", json={"source": "s", "text": "Some text."}).json()["job_id"]
        store.start_job(job_id)
        store.complete_job(job_id, {"sno_id": "x"})
        client.post("/ingest", json={"source": "t", "text": "Other text."})
        text = client.get("/metrics").text
        assert 'cns_jobs{kind="ingest",state="SUCCESS"} 1.0' in text
        assert 'cns_jobs{kind="ingest",state="PENDING"} 1.0' in text
        assert 'cns_task_latency_seconds_count{kind="ingest"} 1.0' in text
        assert "cns_sno_trust_count 3.0" in text and 'cns_sno_trust_bucket{le="0.3"} 1.0' in text
        assert "cns_queue_depth 2.0" in text and "cns_synthesis_success_ratio 0.0" in text
