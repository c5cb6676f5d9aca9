"""List items without vectors, pairs with both sides, id prefixes, and the pair search as a job."""

from __future__ import annotations

import json
from pathlib import Path

from cns.services.job_kinds import PAIR_SEARCH, SEARCH_PAIRS
from cns.services.jobs import run_job
from cns.services.synthesis_jobs import pair_search_job_handler
from cns.store.sql import JobState, PairRecord
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import api_client, config_for
from tests.api.test_api_ingest import assert_error_shape
from tests.api.test_api_search import ingest
from tests.conftest import make_sno

#: what a list item may weigh at most without ``include``: a summary, not the SNO
SUMMARY_MAX_BYTES = 1500


def _size(item: dict) -> int:  # type: ignore[type-arg]
    return len(json.dumps(item).encode("utf-8"))


def test_list_items_are_small_summaries_and_the_rest_comes_on_request(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, _):
        ingest(tmp_path, store)  # the run corpus, with 384-dimension vectors
        summary = client.get("/snos").json()["items"]
        full = client.get("/snos", params={"include": "full"}).json()["items"]
        whole = client.get("/snos", params={"include": ["full", "embedding"]}).json()["items"]
        vector = client.get("/snos", params={"include": "embedding"}).json()["items"]
        bogus = client.get("/snos", params={"include": "graph"})
        sno = store.get(summary[0]["sno_id"])
    sizes = {name: max(map(_size, items)) for name, items in [("summary", summary), ("whole", whole)]}
    print(f"largest /snos item: {sizes['summary']} bytes as a summary, {sizes['whole']} bytes whole")
    assert sizes["summary"] <= SUMMARY_MAX_BYTES < sizes["whole"]
    assert all("hypothesis_embedding" not in item and "reasoning_graph" not in item for item in summary)
    first = summary[0]
    assert first["central_hypothesis"] == sno.central_hypothesis
    assert Path(first["source"]).name in {"drift.md", "fixed.txt", "waves.txt", "particles.txt"}
    assert first["claims"] == len(list(sno.claims())) - 1 and first["evidence"] == len(sno.evidence_set)
    assert first["critic_scores"] == {k: v["score"] for k, v in sno.evaluation["critic_results"].items()}
    assert first["trust_score"] == sno.trust_score and first["synthesis"] is False
    assert (
        "hypothesis_embedding" not in full[0]
        and full[0]["reasoning_graph"] == sno.to_dict()["reasoning_graph"]
    )
    assert whole[0] == sno.to_dict()  # what the list returned before, on request
    assert len(vector[0]["hypothesis_embedding"]) == 384 and "reasoning_graph" not in vector[0]
    assert bogus.status_code == 422


def test_pairs_carry_both_sides_files_and_hypotheses(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, _):
        ingest(tmp_path, store)
        [pair] = client.get("/pairs").json()["items"]
        one = client.get(f"/pairs/{pair['pair_id'][:6]}").json()
        a, b = store.get(pair["sno_a"]), store.get(pair["sno_b"])
    assert pair["hypothesis_a"] == a.central_hypothesis and pair["hypothesis_b"] == b.central_hypothesis
    assert pair["file_a"] == a.metadata["source"] and pair["file_b"] == b.metadata["source"]
    assert sorted(Path(pair[k]).name for k in ("file_a", "file_b")) == ["drift.md", "fixed.txt"]
    assert one == pair


def test_ids_are_accepted_by_unique_prefix(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    with api_client(tmp_path) as (client, store, _):
        for sno_id, name in (("abc111", "one.txt"), ("abc222", "two.txt"), ("def333", "three.txt")):
            sno = make_sno(f"Hypothesis of {name}", ["a claim"], embedder=embedder, sno_id=sno_id)
            sno.metadata["source"] = name
            store.put(sno)
        pair = store.record_pair(PairRecord("abc111", "def333", 0.6, 0.5, 0.4))
        unique = client.get("/snos/abc1")
        ambiguous = client.get("/snos/abc")
        unknown = client.get("/snos/fff")
        synth = client.post(f"/pairs/{pair.pair_id[:5]}/synthesize")
        no_pair = client.post("/pairs/0000000/synthesize")
        job_id = synth.json()["job_id"]
        by_prefix = client.get(f"/tasks/{job_id[:8]}")
        no_job = client.get("/tasks/zz")
    assert unique.status_code == 200 and unique.json()["sno_id"] == "abc111"
    assert ambiguous.status_code == 409
    body = assert_error_shape(ambiguous.json(), 409)
    assert body["type"] == "ambiguous_id" and "'abc' is ambiguous" in body["message"]
    assert body["details"] == [{"id": "abc111", "files": ["one.txt"]}, {"id": "abc222", "files": ["two.txt"]}]
    assert unknown.status_code == 404
    assert assert_error_shape(unknown.json(), 404)["message"].startswith(
        "no stored SNO has an id starting with 'fff'"
    )
    assert synth.status_code == 202
    assert no_pair.status_code == 404 and "no stored pair has an id starting with '0000000'" in no_pair.text
    assert by_prefix.status_code == 200 and by_prefix.json()["job_id"] == job_id
    assert no_job.status_code == 404 and "no stored job has an id starting with 'zz'" in no_job.text


def test_an_ambiguous_job_prefix_lists_the_jobs(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, _, _):
        ids = [
            client.post("/ingest", json={"source": f"s{i}", "text": f"Text {i}."}).json()["job_id"]
            for i in range(17)
        ]
        shared = next(
            c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) > 1
        )  # 17 ids, 16 digits
        answer = client.get(f"/tasks/{shared}")
    assert answer.status_code == 409
    listed = [d["id"] for d in answer.json()["error"]["details"]]
    assert listed == sorted(i for i in ids if i.startswith(shared))[:8]
    assert all(d["files"] == ["ingest"] for d in answer.json()["error"]["details"])


def test_a_pair_search_is_a_job_that_finds_and_schedules(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        ingest(tmp_path, store)
        answer = client.post("/pairs/search")
        replay = client.post("/pairs/search", headers={"Idempotency-Key": "k1"})
        again = client.post("/pairs/search", headers={"Idempotency-Key": "k1"})
        assert answer.status_code == 202 and answer.json()["state"] == "PENDING"
        job_id = answer.json()["job_id"]
        assert again.json()["job_id"] == replay.json()["job_id"] != job_id
        assert publisher.sent[0] == (SEARCH_PAIRS, (job_id,))
        manager = CNSWorkflowManager(
            config_for(tmp_path), store=store, embedder=HashEmbedder(384), nli=RuleNLI()
        )
        done = run_job(
            store,
            job_id,
            max_deliveries=3,
            handler=pair_search_job_handler(store, manager, publisher, config_for(tmp_path)),
        )
        status = client.get(f"/tasks/{job_id}").json()
    assert done.state is JobState.SUCCESS and status["kind"] == PAIR_SEARCH
    assert status["result"]["pairs"] == 1  # drift.md against fixed.txt
    assert status["result"]["scheduled"] == 1
    assert publisher.sent[-1][0] == "cns.synthesize_pair"
