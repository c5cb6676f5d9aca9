"""Read routes, deletion and the error shape of framework errors (404, 405)."""

from __future__ import annotations

from pathlib import Path

from cns.core.sno import SNOStatus
from cns.store.sql import PairRecord
from tests.api.api_helpers import api_client
from tests.api.test_api_ingest import assert_error_shape
from tests.conftest import make_sno


def seed(store, embedder) -> list[str]:
    ids = []
    for i, trust in enumerate([0.2, 0.5, 0.8]):
        doc = store.put_document(f"Document {i} text about plates.", source=f"s{i}.txt")
        sno = make_sno(f"Hypothesis {i}", ["a claim"], [("ev", "doi:10.1/x")], embedder=embedder, trust=trust)
        sno.metadata.update({"source": f"s{i}.txt", "document_id": doc.document_id})
        sno.status = SNOStatus.ACTIVE if trust > 0.3 else SNOStatus.ARCHIVED
        store.put(sno)
        ids.append(sno.sno_id)
    return ids


def test_tasks_endpoint_reads_the_database_and_404s_unknown_ids(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, _):
        job_id = client.post("/ingest", json={"source": "s", "text": "Some text here."}).json()["job_id"]
        pending = client.get(f"/tasks/{job_id}").json()
        assert pending["state"] == "PENDING" and pending["attempts"] == 0 and pending["sno_id"] is None
        store.start_job(job_id)
        store.complete_job(job_id, {"sno_id": "sno-1"})
        done = client.get(f"/tasks/{job_id}").json()
        assert done["state"] == "SUCCESS" and done["sno_id"] == "sno-1" and done["attempts"] == 1
        assert "text" not in done and "fingerprint" not in str(done)
        missing = client.get("/tasks/does-not-exist")
        assert missing.status_code == 404 and assert_error_shape(missing.json(), 404)["type"] == "not_found"
        assert client.get("/jobs/does-not-exist").status_code == 404


def test_snos_pagination_filters_and_single_item(tmp_path: Path, embedder) -> None:
    with api_client(tmp_path) as (client, store, _):
        ids = seed(store, embedder)
        page = client.get("/snos", params={"limit": 2, "offset": 0}).json()
        assert page["total"] == 3 and len(page["items"]) == 2 and page["limit"] == 2
        rest = client.get("/snos", params={"limit": 2, "offset": 2}).json()
        assert [s["sno_id"] for s in page["items"] + rest["items"]] == ids
        assert page["items"][0]["source"] == "s0.txt"
        trusted = client.get("/snos", params={"min_trust": 0.5, "status": "active"}).json()
        assert trusted["total"] == 2
        assert client.get("/snos", params={"limit": 0}).status_code == 422
        assert client.get("/snos", params={"status": "bogus"}).status_code == 422
        assert client.get(f"/snos/{ids[1]}").json()["sno_id"] == ids[1]
        assert client.get("/snos/nope").status_code == 404


def test_pairs_synthesize_and_syntheses(tmp_path: Path, embedder) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        ids = seed(store, embedder)
        pair = store.record_pair(PairRecord(ids[1], ids[2], 0.6, 0.5, 0.4, shared=["doi:10.1/x"]))
        listed = client.get("/pairs").json()
        assert listed["total"] == 1 and listed["items"][0]["pair_id"] == pair.pair_id
        first = client.post(f"/pairs/{pair.pair_id}/synthesize")
        again = client.post(f"/pairs/{pair.pair_id}/synthesize")
        assert first.status_code == 202 and again.json()["job_id"] == first.json()["job_id"]
        assert publisher.sent == [("cns.synthesize_pair", (first.json()["job_id"],))]
        assert client.post("/pairs/none/synthesize").status_code == 404
        store.record_attempt(pair.pair_id, finished_at=pair.found_at, accepted=True, result_sno_id="syn-1")
        syntheses = client.get("/syntheses").json()
        assert syntheses["total"] == 1 and syntheses["items"][0]["sno_id"] == "syn-1"
        assert syntheses["items"][0]["synthesis"] is None  # the attempt's SNO is not stored
        assert client.get("/syntheses", params={"accepted": "false"}).json()["total"] == 0


def test_delete_document_cascades_and_404s_when_absent(tmp_path: Path, embedder) -> None:
    with api_client(tmp_path) as (client, store, _):
        ids = seed(store, embedder)
        pair = store.record_pair(PairRecord(ids[0], ids[1], 0.6, 0.5, 0.4))
        doc_id = store.get(ids[0]).metadata["document_id"]
        response = client.delete(f"/documents/{doc_id}")
        assert response.status_code == 200
        body = response.json()
        assert body["sno_ids"] == [ids[0]] and body["pair_ids"] == [pair.pair_id]
        assert client.get(f"/snos/{ids[0]}").status_code == 404 and len(store) == 2
        assert client.delete(f"/documents/{doc_id}").status_code == 404


def test_framework_errors_use_the_error_shape(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, _, _):
        not_found = client.get("/no/such/route")
        assert not_found.status_code == 404 and assert_error_shape(not_found.json(), 404)
        wrong_method = client.put("/ingest", json={})
        assert wrong_method.status_code == 405
        assert assert_error_shape(wrong_method.json(), 405)["type"] == "method_not_allowed"
        assert wrong_method.headers["x-request-id"] == wrong_method.json()["error"]["request_id"]
        given = client.get("/snos", headers={"X-Request-ID": "abc-123"})
        assert given.headers["x-request-id"] == "abc-123"
        assert "/ingest" in client.get("/openapi.json").json()["paths"]
        assert client.get("/docs").status_code == 200


def test_syntheses_and_snos_show_sections_and_provenance(tmp_path: Path, embedder, nli) -> None:
    from cns.synthesis import SynthesisEngine
    from tests.synthesis.synth_fixtures import config, evaluator, make_pair

    cf = config()
    result = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli)).synthesize(make_pair(embedder, nli))
    sno = result.sno
    assert sno is not None
    with api_client(tmp_path) as (client, store, _):
        ids = seed(store, embedder)
        store.put(sno)
        pair = store.record_pair(PairRecord(ids[1], ids[2], 0.6, 0.5, 0.4, shared=["doi:10.1/x"]))
        store.record_attempt(pair.pair_id, finished_at=pair.found_at, accepted=True, result_sno_id=sno.sno_id)
        [item] = client.get("/syntheses").json()["items"]
        view = item["synthesis"]
        assert view["synthesizer"] == "offline" and view["hypothesis"] == sno.central_hypothesis
        assert [s["name"] for s in view["sections"]] == [
            "common_ground", "conflict", "evidence_for_each_side", "open_question"
        ]  # fmt: skip
        assert view["provenance_audit"]["verified_share"] == 1.0
        claims = {c["claim_id"]: c for c in view["claims"]}
        assert claims["conflict_a_claim_1"]["verified"] is True
        assert claims["conflict_a_claim_1"]["parent_claims"] == [{"sno_id": "a", "claim_id": "claim_1"}]
        assert claims["conflict_a_claim_1"]["spans"][0]["quote"] == "caffeine makes workers more alert"
        body = client.get(f"/snos/{sno.sno_id}").json()
        assert body["synthesis"] == view
        assert "synthesis" not in client.get(f"/snos/{ids[0]}").json()  # plain narratives unchanged
