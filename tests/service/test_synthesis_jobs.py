"""find_pairs → synthesize through the job services, with the shared store and fake models."""

from __future__ import annotations

from pathlib import Path

from cns.core.sno import SNOStatus
from cns.services.jobs import run_job
from cns.services.queries import list_syntheses
from cns.services.synthesis_jobs import find_and_schedule, synthesize_job_handler
from cns.store.sql import JobState, SQLStore
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow.manager import CNSWorkflowManager
from tests.api.api_helpers import RecordingPublisher, config_for
from tests.conftest import make_sno

EVIDENCE = [("Coffee trial with 100 adults measured memory.", "doi:10.1000/coffee"),
            ("A second cohort of 80 adults was followed.", "doi:10.1000/cohort")]  # fmt: skip


def seed_opposed(store: SQLStore, embedder: HashEmbedder) -> None:
    for text in ("Coffee improves memory in adults", "Coffee worsens memory in adults"):
        sno = make_sno(text, [f"{text} in the trial"], EVIDENCE, embedder=embedder, trust=0.8)
        sno.status = SNOStatus.ACTIVE
        store.put(sno)


def test_find_pairs_schedules_once_and_synthesis_records_an_attempt(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    publisher = RecordingPublisher()
    embedder = HashEmbedder(384)
    with SQLStore.open(config=config) as store:
        seed_opposed(store, embedder)
        manager = CNSWorkflowManager(config, store=store, embedder=embedder, nli=RuleNLI())
        counts = find_and_schedule(store=store, publisher=publisher, config=config, manager=manager)
        assert counts == {"pairs": 1, "scheduled": 1}
        again = find_and_schedule(store=store, publisher=publisher, config=config, manager=manager)
        assert again == {"pairs": 1, "scheduled": 0}  # the queued job's key dedups the second sweep
        (job,) = store.list_jobs(kind="synthesize")
        assert publisher.sent == [("cns.synthesize_pair", (job.job_id,))]
        handler = synthesize_job_handler(store, manager, config)
        done = run_job(store, job.job_id, max_deliveries=3, handler=handler)
        assert done.state is JobState.SUCCESS and done.result["pair_id"] == job.payload["pair_id"]
        (attempt,) = store.list_attempts(job.payload["pair_id"])
        assert attempt.accepted == done.result["accepted"] and attempt.cooldown_until is not None
        if done.result["sno_id"]:
            stored = store.get(done.result["sno_id"])
            assert sorted(stored.metadata["parent_ids"]) == sorted([store.get_pair(job.payload["pair_id"]).sno_a,
                                                                    store.get_pair(job.payload["pair_id"]).sno_b])  # fmt: skip
        assert list_syntheses(store, limit=10, offset=0).total == 1
        find_and_schedule(store=store, publisher=publisher, config=config, manager=manager)
        same_pair = [
            j for j in store.list_jobs(kind="synthesize") if j.payload["pair_id"] == job.payload["pair_id"]
        ]
        assert same_pair == [store.get_job(job.job_id)]  # in cooldown: never scheduled twice
