"""R10: happy-path conservation — 100 small jobs through one worker, nothing lost or duplicated."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.reliability.rel_service import broker_counts, stack_store, wait_terminal
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import REDIS_URL, service_stack
from tests.service.test_service_integration import document

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(200)]

JOBS = 100


def test_r10_one_hundred_jobs_complete_exactly_once(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_worker()
        stack.start_api()
        docs = [document(i) for i in range(JOBS)]
        started = time.monotonic()
        job_ids: list[str] = []
        for batch in range(0, JOBS, 25):
            response = httpx.post(
                f"{stack.api_url}/ingest/batch", json={"documents": docs[batch : batch + 25]}, timeout=30
            )
            assert response.status_code == 202, response.text
            job_ids += [item["job_id"] for item in response.json()["items"]]
        states = wait_terminal(stack, job_ids, timeout=120)
        seconds = time.monotonic() - started
        assert [s["state"] for s in states.values()].count("SUCCESS") == JOBS
        assert all(s["attempts"] == 1 for s in states.values())
        assert broker_counts(REDIS_URL) == (0, 0)
        with stack_store(stack) as store:
            tally = conservation(store, job_ids)
            snos = store.list()
            assert tally.jobs == JOBS and len(snos) == JOBS
            assert len({s.sno_id for s in snos}) == JOBS
            assert sorted(str(s.metadata["source"]) for s in snos) == sorted(d["source"] for d in docs)
            assert {states[j]["sno_id"] for j in job_ids} == {s.sno_id for s in snos}
    record(
        "R10",
        f"{JOBS} small jobs (4 batches of 25), one worker, no fault",
        f"all SUCCESS in {seconds:.1f} s with attempts 1; {len(snos)} SNOs with distinct ids and sources; "
        "queue and unacked empty",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
