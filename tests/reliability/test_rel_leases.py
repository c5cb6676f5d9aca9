"""L01–L03: job leases against real workers (prefork, real Redis and PostgreSQL).

The broker's visibility timeout is set far beyond the tests' length (120 s), so only the lease
can hand a dead worker's job on in time: lease 5 s renewed every second, reconciler every 2 s
(``tests/service/service_harness.py``).

* L01: the documented deployment (API, one worker, beat) with a batch in flight; the worker's
  whole process group is SIGKILLed (an OOM kill of its container) and a replacement started.
  The dead worker's message stays in Redis ``unacked``; the job's lease runs out, the reconciler
  re-publishes it, and every document completes once.
* L02: a worker frozen with SIGSTOP past its lease while a second worker runs; the second
  worker takes the job over and completes it. After SIGCONT the frozen worker finishes its copy
  of the work: its renewal finds the lease gone and its final write (SNO + SUCCESS) is refused by
  the fencing token — one SNO, written once.
* L03: no beat at all; one of two workers is SIGKILLed mid-task. The other worker notices that
  no reconcile sweep ran, takes the sweep's turn and re-publishes the job.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.reliability.rel_service import broker_counts, stack_store, task_state, wait_terminal
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import REDIS_URL, Stack, parse_json_lines, service_stack, wait_until
from tests.service.test_service_integration import document

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

#: Limits under which only the lease recovers a dead worker's job within the test.
LONG_VISIBILITY = {
    "CNS_CELERY__VISIBILITY_TIMEOUT_SECONDS": "120",
    "CNS_CELERY__TASK_TIME_LIMIT_SECONDS": "60",
    "CNS_CELERY__TASK_SOFT_TIME_LIMIT_SECONDS": "50",
    "CNS_CELERY__FIND_PAIRS_INTERVAL_SECONDS": "3600",
}
LEASE_SECONDS = 5
SLOW = {"app": "tests.service.slow_worker_app", "CNS_FAKE_NLI_DELAY_SECONDS": "0.5"}


def events(stack: Stack, name: str, event: str) -> list[dict[str, Any]]:
    lines = [line for line in stack.log_lines().get(name, []) if line.startswith("{")]
    return [e for e in parse_json_lines(lines) if e.get("event") == event]


def seconds_after(event: dict[str, Any], moment: float) -> float:
    """Seconds from ``moment`` (``time.time()``) to a log event's timestamp."""
    return datetime.fromisoformat(str(event["timestamp"])).timestamp() - moment


def holder_of(stack: Stack, job_id: str, names: Iterable[str]) -> str:
    """The worker (stack name) whose prefork child holds ``job_id``'s lease."""
    with stack_store(stack) as store:
        job = store.get_job(job_id)
    assert job is not None and job.lease_owner, job
    pid = int(job.lease_owner.rpartition(":")[2])
    for name in names:
        if pid in {child.pid for child in psutil.Process(stack.procs[name].pid).children()}:
            return name
    raise AssertionError(f"no worker of {list(names)} has the child {pid}")


def first_started(stack: Stack, job_ids: list[str], timeout: float = 60) -> str:
    found: list[str] = []

    def started() -> bool:
        found.extend(j for j in job_ids if task_state(stack, j)["state"] == "STARTED")
        return bool(found)

    wait_until(started, timeout, "a job to start", interval=0.2)
    return found[0]


def test_l01_whole_worker_killed_mid_batch_its_job_is_handed_on_by_the_lease(tmp_path: Path) -> None:
    with service_stack(tmp_path, **LONG_VISIBILITY) as stack:
        stack.start_worker("worker-a", **SLOW)
        stack.start_api()
        stack.start("beat", ["python", "-m", "cns.cli.service_cmd", "beat"])
        batch = {"documents": [document(i) for i in range(12)]}
        answer = httpx.post(f"{stack.api_url}/ingest/batch", json=batch, timeout=30)
        assert answer.status_code == 202, answer.text
        jobs = [item["job_id"] for item in answer.json()["items"]]
        wait_until(lambda: task_state(stack, jobs[1])["state"] != "PENDING", 60, "the batch to be under way")
        time.sleep(0.3)  # inside the slow NLI call of the next job
        killed_at, killed = time.time(), time.monotonic()
        stack.kill("worker-a")  # SIGKILL to the whole process group: main process and child
        queued, unacked = broker_counts(REDIS_URL)
        with stack_store(stack) as store:
            running = [j.job_id for j in store.list_jobs(state="STARTED")]
        assert len(running) == 1, running  # the job the dead worker held
        in_flight = running[0]
        stack.start_worker("worker-b", **SLOW)
        states = wait_terminal(stack, [in_flight], timeout=60)
        recovered = time.monotonic() - killed
        states.update(wait_terminal(stack, jobs, timeout=90))
        all_done = time.monotonic() - killed
        handed_on = [
            e for e in events(stack, "worker-b", "reconcile.lease_expired") if e["job_id"] == in_flight
        ]
        assert len(handed_on) == 1, handed_on
        handed_on_after = seconds_after(handed_on[0], killed_at)
        assert all(s["state"] == "SUCCESS" for s in states.values()), states
        assert states[in_flight]["attempts"] == 2
        assert (
            unacked == 1 and broker_counts(REDIS_URL)[1] == 1
        )  # Redis still holds the dead worker's message
        with stack_store(stack) as store:
            tally = conservation(store, jobs)
            assert tally.jobs == tally.snos == len(jobs) and store.current_seq() == len(jobs)
    record(
        "L01",
        f"whole worker process group SIGKILLed mid-batch ({len(jobs)} documents, {queued} still queued), "
        "replacement worker started; beat running; visibility timeout 120 s, lease 5 s",
        f"the dead worker's message stayed in Redis unacked; its job's lease ran out and the reconciler "
        f"re-published it {handed_on_after:.1f} s after the kill; that job SUCCESS {recovered:.1f} s after the "
        f"kill (attempts 2), all {len(jobs)} done {all_done:.1f} s after it; {tally.snos} SNOs, each written once",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )


def test_l02_frozen_worker_past_its_lease_cannot_write_after_it_wakes(tmp_path: Path) -> None:
    with service_stack(tmp_path, **LONG_VISIBILITY) as stack:
        names = ("worker-a", "worker-b")
        for name in names:
            stack.start_worker(name, **SLOW)
        stack.start_api()
        wait_until(lambda: all(stack.logs[n].stat().st_size > 0 for n in names), 30, "both workers to log")
        job_id = httpx.post(f"{stack.api_url}/ingest", json=document(3), timeout=10).json()["job_id"]
        first_started(stack, [job_id])
        frozen = holder_of(stack, job_id, names)
        other = next(n for n in names if n != frozen)
        time.sleep(0.3)
        os.killpg(stack.procs[frozen].pid, signal.SIGSTOP)  # the whole worker: main process and child
        stopped = time.monotonic()
        try:
            states = wait_terminal(stack, [job_id], timeout=60)
            recovered = time.monotonic() - stopped
        finally:
            os.killpg(stack.procs[frozen].pid, signal.SIGCONT)
        frozen_for = time.monotonic() - stopped
        wait_until(lambda: events(stack, frozen, "job.fenced"), 60, "the woken worker's write to be refused")
        fenced = events(stack, frozen, "job.fenced")[0]
        lost = events(stack, frozen, "job.lease_lost")
        assert states[job_id]["state"] == "SUCCESS" and states[job_id]["attempts"] == 2, states
        assert (fenced["lease_token"], fenced["current_token"], fenced["state"]) == (1, 2, "SUCCESS")
        assert not any(e.get("job_id") == job_id for e in events(stack, frozen, "job.completed"))
        assert [e["job_id"] for e in events(stack, other, "job.completed")] == [job_id]
        time.sleep(1.0)  # anything the woken worker still had to write would be written by now
        with stack_store(stack) as store:
            job = store.get_job(job_id)
            assert job is not None and job.result == states[job_id]["result"] and job.lease_token == 2
            tally = conservation(store, [job_id])
            assert tally.snos == 1 and store.current_seq() == 1  # the SNO was written exactly once
    record(
        "L02",
        f"a worker frozen with SIGSTOP mid-task for {frozen_for:.1f} s (past its 5 s lease), a second "
        "worker running, then SIGCONT",
        f"the second worker took the job over and completed it {recovered:.1f} s after the freeze (attempts 2); "
        f"after SIGCONT the woken worker's renewal found the lease gone ({len(lost)} job.lease_lost) and its "
        "final write was refused by the fencing token (job.fenced: token 1 < 2): one SNO, written once",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )


def test_l03_without_beat_a_surviving_worker_runs_the_reconciler(tmp_path: Path) -> None:
    with service_stack(tmp_path, **LONG_VISIBILITY) as stack:
        names = ("worker-a", "worker-b")
        for name in names:
            stack.start_worker(name, **SLOW)
        stack.start_api()
        wait_until(lambda: all(stack.logs[n].stat().st_size > 0 for n in names), 30, "both workers to log")
        job_id = httpx.post(f"{stack.api_url}/ingest", json=document(5), timeout=10).json()["job_id"]
        first_started(stack, [job_id])
        dead = holder_of(stack, job_id, names)
        survivor = next(n for n in names if n != dead)
        time.sleep(0.3)
        killed_at, killed = time.time(), time.monotonic()
        stack.kill(dead)
        states = wait_terminal(stack, [job_id], timeout=60)
        recovered = time.monotonic() - killed
        takeovers = events(stack, survivor, "reconcile.takeover")
        handed_on = [e for e in events(stack, survivor, "reconcile.lease_expired") if e["job_id"] == job_id]
        assert "beat" not in stack.procs and takeovers and len(handed_on) == 1
        assert states[job_id]["state"] == "SUCCESS" and states[job_id]["attempts"] == 2, states
        with stack_store(stack) as store:
            tally = conservation(store, [job_id])
            assert tally.snos == 1 and store.current_seq() == 1
    record(
        "L03",
        "no beat running; one of two workers SIGKILLed (whole process group) mid-task",
        f"the surviving worker saw no reconcile sweep for 2 intervals, took the turn "
        f"({len(takeovers)} sweeps) and re-published the job {seconds_after(handed_on[0], killed_at):.1f} s "
        f"after the kill; SUCCESS {recovered:.1f} s after it (attempts 2); one SNO",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
