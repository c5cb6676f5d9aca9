"""R23: the job state comes from the CNS database, so a lost or unreachable result backend never
turns a finished job into PENDING-forever (celery#8588)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.reliability.rel_service import stack_store, task_state, wait_terminal
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import free_port, service_stack

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]


def test_r23_dead_result_backend_does_not_hide_finished_jobs(tmp_path: Path) -> None:
    dead_backend = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens: every backend call would fail
    with service_stack(tmp_path, CNS_RESULT_BACKEND=dead_backend) as stack:
        stack.start_worker()
        stack.start_api()
        doc = {"source": "backend.txt", "text": "Fasting changes metabolism. A trial followed 20 adults."}
        job_id = httpx.post(f"{stack.api_url}/ingest", json=doc, timeout=10).json()["job_id"]
        states = wait_terminal(stack, [job_id], timeout=60)
        again = task_state(stack, job_id)  # asked again later: still the database's answer
        assert states[job_id]["state"] == again["state"] == "SUCCESS", states
        assert again["sno_id"] and again["result"]["sno_id"] == again["sno_id"]
        with stack_store(stack) as store:
            tally = conservation(store, [job_id])
            assert tally.snos == 1
    record(
        "R23",
        "result backend unreachable for the whole run (API and worker)",
        "job SUCCESS with its sno_id from the CNS database on every GET /tasks/{id}; never PENDING",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
