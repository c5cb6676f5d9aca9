"""Ownership of documents and per-key idempotency (rows S10, S11 of docs/reliability.md).

* S10: any key could delete any document, and a second key posting the same text (whitespace
  changed) overwrote the stored document's source and metadata. Now the document records the
  key that first submitted it; other write keys get 403 on delete (an admin key may delete any),
  and a duplicate from another key links to the same document without rewriting it — also when
  the worker runs the duplicate's job first.
* S11: Idempotency-Keys were global (two API keys collided) and a batch's item keys ``K:i``
  collided with a single submission keyed ``K:0``. Now keys are scoped per API key, and item
  keys live apart from single-submission keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cns.services.apikeys import create_api_key
from cns.services.jobs import run_job
from cns.store.sql import SQLStore, document_id_for
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import api_client, config_for
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]
TEXT = "Coffee improves focus because caffeine blocks adenosine receptors. Studies show faster reactions."
FIRST = {"source": "alice.txt", "text": TEXT, "metadata": {"by": "alice"}}
SECOND = {"source": "mallory.txt", "text": "  " + TEXT.replace(". ", ".\n\n") + "  ", "metadata": {"by": "m"}}


def _key(store: SQLStore, name: str, scope: str = "write") -> dict[str, str]:
    return {"X-API-Key": create_api_key(store, name=name, scope=scope)[1]}


def _run_ingest(tmp_path: Path, store: SQLStore, job_id: str) -> None:
    manager = CNSWorkflowManager(config_for(tmp_path), store=store, embedder=HashEmbedder(384), nli=RuleNLI())
    run_job(store, job_id, max_deliveries=3, handler=manager.ingest_job)


def test_a_key_deletes_only_its_own_documents_and_duplicates_never_rewrite(tmp_path: Path) -> None:
    with api_client(tmp_path, auth={"enabled": True}) as (client, store, _):
        alice, mallory, admin = _key(store, "alice"), _key(store, "mallory"), _key(store, "ops", "admin")
        first = client.post("/ingest", json=FIRST, headers=alice).json()
        second = client.post("/ingest", json=SECOND, headers=mallory).json()
        document_id = document_id_for(TEXT)
        assert first["document_id"] == second["document_id"] == document_id
        assert first["submitted_by_another_key"] is False and second["submitted_by_another_key"] is True
        _run_ingest(tmp_path, store, second["job_id"])  # the duplicate's job runs first
        _run_ingest(tmp_path, store, first["job_id"])
        stored = store.get_document(document_id)
        assert stored is not None and stored.source == "alice.txt" and stored.metadata == {"by": "alice"}
        assert stored.owner_key_id == alice["X-API-Key"][5:].split(".")[0]
        assert store.get_job(second["job_id"]).payload["submitted_by"] != stored.owner_key_id  # type: ignore[union-attr]
        denied = client.delete(f"/documents/{document_id}", headers=mallory)
        assert denied.status_code == 403 and "another API key" in denied.json()["error"]["message"]
        assert store.document_exists(document_id) and len(store.list()) == 1
        assert client.delete(f"/documents/{document_id}", headers=alice).status_code == 200
        third = client.post("/ingest", json=FIRST, headers=alice).json()
        assert client.delete(f"/documents/{third['document_id']}", headers=admin).status_code == 200
        assert not store.document_exists(document_id)
        # three submissions of one text (A, B linked to A's document, A again after the delete) are
        # three accepted requests with a job each by design: only a second SNO would be duplication
        check = conservation(store, submissions_share_documents=True)
    assert (check.lost, check.duplicated) == (0, 0), check
    record(
        "S10",
        "key B posts key A's text (whitespace changed); B's job runs first; B, A, then an admin delete",
        "B linked to A's document (submitted_by_another_key=true), source and metadata stay A's; "
        "B's delete 403, A's delete 200, admin may delete any (before: B rewrote A's record and could "
        "delete it)",
        lost=check.lost,
        duplicated=check.duplicated,
    )


def test_idempotency_keys_are_per_api_key_and_batch_items_are_apart(tmp_path: Path) -> None:
    with api_client(tmp_path, auth={"enabled": True}) as (client, store, publisher):
        alice, bob = _key(store, "alice"), _key(store, "bob")
        one = client.post("/ingest", json=FIRST, headers={**alice, "Idempotency-Key": "K"})
        other = client.post(
            "/ingest", json={**FIRST, "text": "Another text."}, headers={**bob, "Idempotency-Key": "K"}
        )
        assert one.status_code == 202 and other.status_code == 202, other.text  # before: 422 "key reused"
        assert one.json()["job_id"] != other.json()["job_id"] and other.json()["created"] is True
        single = client.post(
            "/ingest", json={**FIRST, "text": "Single."}, headers={**alice, "Idempotency-Key": "B:0"}
        )
        batch = client.post(
            "/ingest/batch",
            json={"documents": [{**FIRST, "text": "Batch item zero."}]},
            headers={**alice, "Idempotency-Key": "B"},
        )
        assert single.status_code == 202 and batch.status_code == 202, batch.text  # before: 422
        assert batch.json()["items"][0]["created"] is True
        replay = client.post("/ingest", json=FIRST, headers={**alice, "Idempotency-Key": "K"})
        assert replay.json()["job_id"] == one.json()["job_id"] and replay.json()["created"] is False
        jobs = [
            one.json()["job_id"],
            other.json()["job_id"],
            single.json()["job_id"],
            batch.json()["items"][0]["job_id"],
        ]
        assert len(set(jobs)) == 4 and len(publisher.sent) == 4
        check = conservation(store, accepted=jobs, published=publisher.job_ids)
    assert (check.lost, check.duplicated) == (0, 0), check
    record(
        "S11",
        "Idempotency-Key K from keys A and B (different bodies); single key 'B:0' then a batch keyed 'B'",
        "4 distinct jobs, each 202 created; A's replay of K returns A's job (before: B got 422 'key "
        "reused', and the batch item collided with the single 'B:0')",
        lost=check.lost,
        duplicated=check.duplicated,
    )
