"""POST /ingest and friends: status codes, the stored job, the published message, idempotency."""

from __future__ import annotations

from pathlib import Path

from cns.store.sql import JobState, document_id_for
from tests.api.api_helpers import api_client

DOC = {"source": "paper.txt", "text": "Plate tectonics moves continents slowly.", "metadata": {"year": 1965}}


def assert_error_shape(body: dict, status: int) -> dict:
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "type", "message", "details", "request_id"}
    assert error["status"] == status and error["message"] and error["request_id"]
    return error


def test_ingest_stores_job_and_document_then_publishes_job_id(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        response = client.post("/ingest", json=DOC)
        assert response.status_code == 202
        body = response.json()
        assert body["task_id"] == body["job_id"] and body["created"] is True
        assert body["document_id"] == document_id_for(DOC["text"])
        job = store.get_job(body["job_id"])
        assert job is not None and job.state is JobState.PENDING and job.kind == "ingest"
        assert job.payload["text"] == DOC["text"] and job.payload["source"] == "paper.txt"
        assert store.get_document(body["document_id"]) is not None
        assert publisher.sent == [("cns.process_ingestion", (body["job_id"],))]


def test_empty_or_blank_fields_are_400_in_the_error_shape(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        for bad in ({"source": "", "text": "x y"}, {"source": "s", "text": "   \n"}):
            response = client.post("/ingest", json=bad)
            assert response.status_code == 400
            assert assert_error_shape(response.json(), 400)["type"] == "bad_request"
        assert publisher.sent == [] and store.list_jobs() == []


def test_unknown_field_wrong_type_and_bad_json_are_422_without_echoing_input(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, _):
        response = client.post("/ingest", json={**DOC, "evil": "x" * 50})
        error = assert_error_shape(response.json(), 422)
        assert response.status_code == 422 and error["details"][0]["loc"] == ["body", "evil"]
        assert "x" * 50 not in response.text
        assert client.post("/ingest", json={"source": 3, "text": "t"}).status_code == 422
        bad_json = client.post("/ingest", content=b"{not json", headers={"content-type": "application/json"})
        assert bad_json.status_code == 422
        assert assert_error_shape(bad_json.json(), 422)["details"][0]["type"] == "json_invalid"
        assert store.list_jobs() == []


def test_text_longer_than_configured_limit_is_422(tmp_path: Path) -> None:
    with api_client(tmp_path, service={"max_text_chars": 10}) as (client, store, _):
        response = client.post("/ingest", json={"source": "s", "text": "x" * 11})
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["loc"] == ["body", "text"]
        assert store.list_jobs() == []


def test_idempotency_key_replay_and_conflict(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        headers = {"Idempotency-Key": "abc-1"}
        first = client.post("/ingest", json=DOC, headers=headers).json()
        again = client.post("/ingest", json=DOC, headers=headers)
        assert again.status_code == 202 and again.json()["job_id"] == first["job_id"]
        assert again.json()["created"] is False
        assert len(store.list_jobs()) == 1 and len(publisher.sent) == 1
        other = client.post("/ingest", json={**DOC, "text": "Something else entirely."}, headers=headers)
        assert other.status_code == 422
        assert other.json()["error"]["type"] == "idempotency_key_reused"
        assert len(store.list_jobs()) == 1


def test_broker_down_gives_503_and_marks_the_job_for_the_reconciler(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        publisher.down = True
        response = client.post("/ingest", json=DOC, headers={"Idempotency-Key": "k"})
        assert response.status_code == 503
        error = assert_error_shape(response.json(), 503)
        job_id = error["details"][0]["job_id"]
        job = store.get_job(job_id)
        assert job is not None and job.state is JobState.PENDING
        assert [j.job_id for j in store.overdue_jobs()] == [job_id]
        publisher.down = False  # broker back: the replay publishes the kept job
        replay = client.post("/ingest", json=DOC, headers={"Idempotency-Key": "k"})
        assert replay.status_code == 202 and replay.json()["job_id"] == job_id
        assert publisher.sent == [("cns.process_ingestion", (job_id,))]
        assert store.overdue_jobs() == []


def test_batch_and_its_limits(tmp_path: Path) -> None:
    with api_client(tmp_path, service={"max_batch_documents": 3}) as (client, store, publisher):
        docs = [{"source": f"d{i}", "text": f"Document number {i} says things."} for i in range(3)]
        response = client.post("/ingest/batch", json={"documents": docs})
        assert response.status_code == 202
        assert len({item["job_id"] for item in response.json()["items"]}) == 3
        assert len(publisher.sent) == 3
        too_many = client.post("/ingest/batch", json={"documents": [*docs, docs[0]]})
        assert too_many.status_code == 422 and len(store.list_jobs()) == 3
        assert client.post("/ingest/batch", json={"documents": []}).status_code == 422


def test_file_upload_uses_the_loaders(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        files = [
            ("files", ("a.txt", b"Coffee improves focus in most adults.", "text/plain")),
            ("files", ("../../etc/b.md", b"# Title\n\nTea harms nobody at all.", "text/markdown")),
        ]
        response = client.post("/ingest/files", files=files)
        assert response.status_code == 202, response.text
        sources = sorted(store.get_job(i["job_id"]).payload["source"] for i in response.json()["items"])
        assert sources == ["a.txt", "b.md"] and len(publisher.sent) == 2
        empty = client.post("/ingest/files", files=[("files", ("c.txt", b"   ", "text/plain"))])
        assert empty.status_code == 422 and empty.json()["error"]["details"][0]["type"] == "unusable_file"
