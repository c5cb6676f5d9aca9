"""The same corpus gives the same SNOs, pairs and syntheses through ``cns run`` and the service.

Single machine: ``cns run`` on SQLite. Service: the documents through ``POST /ingest`` to real
uvicorn, a Celery worker and celery beat on Redis and PostgreSQL (fake models). Beat starts once
the documents are ingested, as ``cns run`` re-scores once its ingestion is done: its first sweep
submits the re-score job, which re-scores, searches pairs and schedules the syntheses. Both
paths walk :mod:`cns.workflow.lifecycle`, so what they store must agree: the SNO ids with their
status and trust, the recorded pairs, and each synthesis attempt with its outcome and SNO.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from cns.ingestion.loaders import load_path
from cns.store.sql import JobState, SQLStore
from tests.service.service_harness import service_stack, wait_until
from tests.services.run_corpus import write_corpus

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FAKES = {"CNS_MODELS__EMBEDDING_BACKEND": "fake", "CNS_MODELS__NLI_BACKEND": "fake"}
#: accept every synthesis: an accepted synthesis joins the population (and the novelty reference
#: of the next one), which is where the two paths used to part ways
SETTINGS = {**FAKES, "CNS_THRESHOLDS__SYNTHESIS": "0.0"}


def snapshot(store: SQLStore) -> dict[str, Any]:
    """What the lifecycle stored: SNOs (status, trust), pairs (scores) and synthesis attempts."""
    pairs = store.list_pairs()
    attempts = [a for p in pairs for a in store.list_attempts(p.pair_id)]
    return {
        "snos": {s.sno_id: (s.status.value, s.trust_score) for s in store.list()},
        "pairs": {p.pair_id: (p.chirality, p.entanglement, p.potential, p.source) for p in pairs},
        "attempts": sorted((a.pair_id, a.attempt_no, a.accepted, a.result_sno_id) for a in attempts),
        "syntheses": sorted(s.sno_id for s in store.list() if "parent_ids" in s.metadata),
    }


def assert_same(local: dict[str, Any], remote: dict[str, Any]) -> None:
    assert local["snos"].keys() == remote["snos"].keys()
    for sno_id, (status, trust) in local["snos"].items():
        assert remote["snos"][sno_id][0] == status, sno_id
        assert remote["snos"][sno_id][1] == pytest.approx(trust, abs=1e-5), sno_id
    assert local["pairs"].keys() == remote["pairs"].keys()
    for pair_id, scores in local["pairs"].items():
        assert remote["pairs"][pair_id][:3] == pytest.approx(scores[:3], abs=1e-5)
        assert remote["pairs"][pair_id][3] == scores[3]
    assert remote["attempts"] == local["attempts"]
    assert remote["syntheses"] == local["syntheses"]


def test_cns_run_and_the_service_store_the_same_population(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(tmp_path / "docs")
    for key, value in SETTINGS.items():
        monkeypatch.setenv(key, value)
    local_dir = tmp_path / "local"
    ran = CliRunner().invoke(
        app, ["run", str(corpus), "--out", str(tmp_path / "out"), "--data-dir", str(local_dir)]
    )
    assert ran.exit_code == 0, ran.output
    with SQLStore.open(local_dir / "cns.sqlite3") as store:
        local = snapshot(store)
    assert local["pairs"] and local["attempts"], "the corpus has chiral pairs to synthesize"
    assert all(accepted for _, _, accepted, _ in local["attempts"])
    assert len(local["snos"]) == 4 + len(local["syntheses"])

    documents = load_path(corpus).documents
    service = {"CNS_CELERY__FIND_PAIRS_INTERVAL_SECONDS": "2", "CNS_THRESHOLDS__SYNTHESIS": "0.0"}
    with service_stack(tmp_path / "service", **service) as stack:
        stack.start_worker()
        stack.start_api()
        job_ids = []
        for document in documents:
            body = {"source": document.source, "text": document.text, "metadata": document.metadata}
            response = httpx.post(f"{stack.api_url}/ingest", json=body, timeout=10)
            assert response.status_code == 202, response.text
            job_ids.append(response.json()["task_id"])
        store = SQLStore.open(stack.env["CNS_DATABASE_URL"])
        try:

            def ingested() -> bool:
                return all(store.get_job(j).state is JobState.SUCCESS for j in job_ids)  # type: ignore[union-attr]

            wait_until(ingested, 120, "the documents to be ingested")
            stack.start("beat", [sys.executable, "-m", "cns.cli.service_cmd", "beat"])

            def settled() -> bool:
                rescored = [j for j in store.list_jobs(kind="rescore") if j.state is JobState.SUCCESS]
                syntheses = store.list_jobs(kind="synthesize")
                done = all(j.state.terminal for j in syntheses)
                return bool(rescored) and len(syntheses) == len(local["pairs"]) and done

            wait_until(settled, 180, "beat's re-score and the syntheses it scheduled", interval=1.0)
            assert all(j.state is JobState.SUCCESS for j in store.list_jobs(kind="synthesize"))
            remote = snapshot(store)
        finally:
            store.close()
    assert_same(local, remote)
