"""S17: delete really deletes (row S17 of docs/reliability.md).

Before: after ``DELETE /documents/{id}`` the full text stayed in ``jobs.payload``, ``GET /tasks``
still said SUCCESS with the deleted ``sno_id``, and a delete while the ingest job was queued
answered 200 and the job then recreated the document and its SNO. Now the delete removes the text
from every job of the document, marks them, and wins against a queued ingest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cns.services.jobs import run_job
from cns.store.sql import JobState, SQLStore
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import api_client, config_for
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]
DONE = {"source": "done.txt", "text": "Coffee improves focus because caffeine blocks adenosine receptors."}
QUEUED = {
    "source": "queued.txt",
    "text": "Tea calms the mind because theanine promotes alpha waves in studies.",
}


def _run(tmp_path: Path, store: SQLStore, job_id: str) -> None:
    manager = CNSWorkflowManager(config_for(tmp_path), store=store, embedder=HashEmbedder(384), nli=RuleNLI())
    run_job(store, job_id, max_deliveries=3, handler=manager.ingest_job)


def test_delete_removes_the_text_everywhere_and_wins_over_a_queued_ingest(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, _):
        done = client.post("/ingest", json=DONE).json()
        _run(tmp_path, store, done["job_id"])
        assert client.get(f"/tasks/{done['job_id']}").json()["sno_id"]
        queued = client.post("/ingest", json=QUEUED).json()
        for job in (done, queued):
            assert client.delete(f"/documents/{job['document_id']}").status_code in (200, 404)
        _run(tmp_path, store, queued["job_id"])  # the queued job runs after the delete
        for job in (done, queued):
            stored = store.get_job(job["job_id"])
            assert stored is not None and "text" not in stored.payload and stored.payload["deleted"] is True
            assert client.get(f"/tasks/{job['job_id']}").json()["sno_id"] is None
        assert store.get_job(queued["job_id"]).state is JobState.FAILURE  # type: ignore[union-attr]
        assert store.list() == [] and store.list_documents() == []
        with store.engine.connect() as conn:
            dump = str(conn.exec_driver_sql("SELECT payload, result FROM jobs").all())
        assert DONE["text"] not in dump and QUEUED["text"] not in dump
        check = conservation(store)
        left = len(store.list())
    record(
        "S17",
        "DELETE /documents/{id} after its ingest finished, and while another ingest job was still queued",
        "text gone from jobs.payload, jobs marked deleted, GET /tasks shows no sno_id; the queued job "
        "FAILURE 'document deleted', no document or SNO recreated (before: text kept, SUCCESS with the "
        "deleted sno_id, queued job recreated both)",
        lost=check.lost,
        duplicated=check.duplicated + left,
    )
