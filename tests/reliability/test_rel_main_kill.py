"""R14: the worker MainProcess is SIGKILLed mid-task. The message stays in Redis ``unacked``
(visible there before any restart). The job is handed on by whichever comes first: its lease
running out (5 s in the test profile, then the reconciler re-publishes it) or Redis restoring the
message after the visibility timeout (10 s); the other copy finds the job done. It completes once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.reliability.rel_service import (
    broker_counts,
    stack_store,
    submit_and_wait_started,
    wait_terminal,
)
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import REDIS_URL, service_stack, wait_until
from tests.service.test_service_integration import document

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]

DOC = document(7)  # long enough to reach the (slow) NLI several times


def test_r14_main_process_sigkill_leaves_the_message_unacked_until_restored(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_worker(
            "worker-slow", app="tests.service.slow_worker_app", CNS_FAKE_NLI_DELAY_SECONDS="1.0"
        )
        stack.start_api()
        job_id = submit_and_wait_started(stack, DOC)
        time.sleep(0.3)
        os.kill(stack.procs["worker-slow"].pid, signal.SIGKILL)  # the MainProcess only
        killed = time.monotonic()
        queued, unacked = broker_counts(REDIS_URL)
        assert (queued, unacked) == (0, 1)  # reserved by the dead worker, not lost
        stack.kill("worker-slow")  # also reap the orphaned pool child (same process group)
        stack.start_worker("worker-new")
        states = wait_terminal(stack, [job_id], timeout=10 + 30)
        recovery = time.monotonic() - killed
        assert states[job_id]["state"] == "SUCCESS" and states[job_id]["attempts"] == 2, states
        wait_until(lambda: broker_counts(REDIS_URL) == (0, 0), 15, "queue and unacked to drain")
        by_lease = '"reconcile.lease_expired"' in "\n".join(stack.log_lines()["worker-new"])
        with stack_store(stack) as store:
            tally = conservation(store, [job_id])
            assert tally.snos == 1
    path = (
        "its lease (5 s) ran out and the reconciler" if by_lease else "Redis, after the visibility timeout,"
    )
    record(
        "R14",
        "worker MainProcess SIGKILLed mid-task, new worker started",
        f"message seen in Redis unacked ({unacked}) before the restart; {path} handed the job on: SUCCESS "
        f"{recovery:.1f} s after the kill with attempts 2 (the other copy of the message was a no-op); one SNO",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
