"""The ``ingest`` job handler: one commit for document, SNO and SUCCESS, one index sync per job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from cns.services.jobs import run_job, submit_ingestion
from cns.store.sql import JobState, SQLStore
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import RecordingPublisher, config_for

TEXT = "Coffee improves memory in adults. A trial followed 100 people. Therefore coffee is beneficial."


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[CNSWorkflowManager, SQLStore, str]]:
    config = config_for(tmp_path)
    with SQLStore.open(config=config) as store:
        submission = submit_ingestion(
            store=store, publisher=RecordingPublisher(), config=config, source="a.txt", text=TEXT
        )
        manager = CNSWorkflowManager(config, store=store, embedder=HashEmbedder(384), nli=RuleNLI())
        yield manager, store, submission.job.job_id


def test_a_delivery_commits_twice_the_claim_then_document_sno_and_success(env: Any) -> None:
    manager, store, job_id = env
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda _conn: commits.append(1))
    done = run_job(store, job_id, max_deliveries=3, handler=manager.ingest_job)
    assert len(commits) == 2  # before: start_job, put_document, put, complete_job
    assert done == store.get_job(job_id) and done.state is JobState.SUCCESS and done.attempts == 1
    assert done.result is not None
    assert store.snos_of_document(str(done.result["document_id"])) == [done.result["sno_id"]]


def test_one_reference_sync_per_ingestion(env: Any) -> None:
    manager, store, job_id = env
    done = run_job(store, job_id, max_deliveries=3, handler=manager.ingest_job)
    assert done.result is not None and done.result["status"] == "active"
    assert done.result["trust_score"] >= manager.config.thresholds.novelty_reference_trust
    assert manager.reference.syncs == 1  # not a second one just to add the new SNO by hand
    assert done.result["sno_id"] in manager.reference_index().ids()  # it arrives by the change feed
    assert manager.reference.synced_seq == store.current_seq()
