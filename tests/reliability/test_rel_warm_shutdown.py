"""R15: SIGTERM (warm shutdown) during a task: the running task completes, the worker exits 0, and
after a restart every queued job completes once (the first with attempts = 1)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.reliability.rel_service import broker_counts, stack_store, task_state, wait_terminal
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import REDIS_URL, service_stack, wait_until
from tests.service.test_service_integration import document

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]


def test_r15_warm_shutdown_finishes_the_running_task_and_loses_nothing(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_worker(
            "worker-slow", app="tests.service.slow_worker_app", CNS_FAKE_NLI_DELAY_SECONDS="0.7"
        )
        stack.start_api()
        response = httpx.post(
            f"{stack.api_url}/ingest/batch", json={"documents": [document(i) for i in range(3)]}, timeout=30
        )
        job_ids = [item["job_id"] for item in response.json()["items"]]
        wait_until(lambda: task_state(stack, job_ids[0])["state"] == "STARTED", 60, "the first job to start")
        time.sleep(0.3)
        worker = stack.procs["worker-slow"]
        os.kill(worker.pid, signal.SIGTERM)  # the main process only: Celery's warm shutdown
        signalled = time.monotonic()
        exit_code = worker.wait(timeout=10)
        exit_seconds = time.monotonic() - signalled
        stack.kill("worker-slow")  # bookkeeping: the process group is already gone
        first = task_state(stack, job_ids[0])
        assert exit_code == 0, exit_code
        assert first["state"] == "SUCCESS" and first["attempts"] == 1, first  # finished before exiting
        log = "\n".join(stack.log_lines()["worker-slow"])
        restored = "Restoring" in log and "unacknowledged message" in log
        stack.start_worker("worker-new")
        states = wait_terminal(stack, job_ids, timeout=60)
        assert all(s["state"] == "SUCCESS" for s in states.values()), states
        assert states[job_ids[0]]["attempts"] == 1
        assert broker_counts(REDIS_URL) == (0, 0)
        with stack_store(stack) as store:
            tally = conservation(store, job_ids)
            assert tally.snos == 3
    record(
        "R15",
        "SIGTERM to the worker main process during a task, 2 more jobs queued",
        f"running task completed (attempts 1); worker exited 0 after {exit_seconds:.1f} s"
        f"{' (logged Restoring unacknowledged messages)' if restored else ''}; after restart all 3 SUCCESS",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
