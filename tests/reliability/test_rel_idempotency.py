"""R06, R07, R11: duplicate submissions and duplicate executions never duplicate work.

Both run in-process on SQLite: R06 replays one key sequentially; R11 runs the ingestion task
body twice for one job. (R07, the concurrent case, needs PostgreSQL and real uvicorn: see
``test_rel_service_faults.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from cns.services.jobs import run_job
from cns.store.sql import JobState
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import api_client, config_for
from tests.api.test_api_ingest import assert_error_shape
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

DOC = {
    "source": "idem.txt",
    "text": "Coffee improves memory in adults. A trial followed 100 people. Therefore coffee is beneficial.",
}


def test_r06_sequential_replay_returns_the_same_job_and_another_body_is_422(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        headers = {"Idempotency-Key": "key-r06"}
        first = client.post("/ingest", json=DOC, headers=headers)
        replay = client.post("/ingest", json=DOC, headers=headers)
        assert first.status_code == replay.status_code == 202
        assert first.json()["created"] is True and replay.json()["created"] is False
        assert replay.json()["job_id"] == first.json()["job_id"]
        assert len(store.list_jobs()) == 1 and len(publisher.sent) == 1
        other = client.post("/ingest", json={**DOC, "text": "A different body."}, headers=headers)
        assert other.status_code == 422
        assert assert_error_shape(other.json(), 422)["type"] == "idempotency_key_reused"
        assert len(store.list_jobs()) == 1 and len(publisher.sent) == 1
        assert len(store.list_documents()) == 1  # the different body's document was not stored either
        tally = conservation(store, [first.json()["job_id"]], [m[1][0] for m in publisher.sent])
        record(
            "R06",
            "same Idempotency-Key + body twice, then same key + other body",
            "replay → 202 same job_id, created=false, no new row or message; other body → 422 "
            f"idempotency_key_reused; jobs={tally.jobs}, messages={len(publisher.sent)}",
            lost=tally.lost,
            duplicated=tally.duplicated + len(publisher.sent) - 1,
        )


def test_r11_running_the_task_body_twice_changes_nothing(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, _):
        job_id = client.post("/ingest", json=DOC).json()["job_id"]
        config = config_for(tmp_path)
        manager = CNSWorkflowManager(config, store=store, embedder=HashEmbedder(384), nli=RuleNLI())
        first = run_job(store, job_id, max_deliveries=3, handler=manager.ingest_job)
        assert first.state is JobState.SUCCESS and first.result is not None
        sno_id = str(first.result["sno_id"])
        sno_rows, index_size = len(store), len(manager.reference_index())
        assert index_size == 1  # the SNO was admitted to the novelty reference index
        snapshot = store.get(sno_id).to_dict()
        with structlog.testing.capture_logs() as logs:
            again = run_job(store, job_id, max_deliveries=3, handler=manager.ingest_job)
        assert again.state is JobState.SUCCESS and again.attempts == first.attempts == 1
        assert again.result == first.result
        assert len(store) == sno_rows == 1 and len(manager.reference_index()) == index_size
        assert store.get(sno_id).to_dict() == snapshot
        assert [e["event"] for e in logs].count("job.already_completed") == 1
        tally = conservation(store, [job_id], [job_id])
        record(
            "R11",
            "ingestion task body run twice for one job",
            f"second run logs job.already_completed; SNOs={tally.snos}, index size {index_size} unchanged, "
            "state SUCCESS, attempts 1",
            lost=tally.lost,
            duplicated=tally.duplicated,
        )
