"""R21: time limits against a real worker (prefork, concurrency 1, real Redis and PostgreSQL).

* soft limit: a task that overruns the soft time limit is failed as ``time_limit`` by its own body,
  cleanup done — no SNO, no redelivery — and the same worker completes the next job.
* hard limit: the fake NLI swallows ``SoftTimeLimitExceeded`` (``CNS_FAKE_NLI_IGNORE_SOFT_LIMIT``)
  and keeps sleeping, so the pool kills the child at the hard limit. The task body never runs
  again; the job row is failed as ``time_limit`` by :class:`cns.worker.job_request.JobRequest` in
  the worker's main process, the message is acked (not redelivered), the child is replaced and
  the worker completes the next job. No reconciler runs in this test, so the row can only come
  from the hook.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.reliability.rel_service import broker_counts, stack_store, wait_terminal
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import REDIS_URL, Stack, service_stack, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]

LIMITS = {"CNS_CELERY__TASK_SOFT_TIME_LIMIT_SECONDS": "2", "CNS_CELERY__TASK_TIME_LIMIT_SECONDS": "5"}


def test_r21_soft_time_limit_fails_the_job_once_and_the_worker_goes_on(tmp_path: Path) -> None:
    with service_stack(tmp_path, **LIMITS) as stack:
        stack.start_worker(
            "worker-slow",
            app="tests.service.slow_worker_app",
            CNS_FAKE_NLI_DELAY_SECONDS="3",
            CNS_FAKE_NLI_SLOW_MARKER="SLOWDOC",
        )
        stack.start_api()
        slow_doc = {"source": "slow.txt", "text": "SLOWDOC coffee helps memory. Therefore coffee is good."}
        slow = httpx.post(f"{stack.api_url}/ingest", json=slow_doc, timeout=10).json()["job_id"]
        states = wait_terminal(stack, [slow], timeout=60)
        fast_doc = {
            "source": "fast.txt",
            "text": "Reading improves vocabulary. A study followed 30 children.",
        }
        fast = httpx.post(f"{stack.api_url}/ingest", json=fast_doc, timeout=10).json()["job_id"]
        started = time.monotonic()
        states.update(wait_terminal(stack, [fast], timeout=30))
        next_seconds = time.monotonic() - started
        assert states[slow]["state"] == "FAILURE" and states[slow]["error"].startswith("time_limit"), states
        assert states[slow]["attempts"] == 1  # acked, not redelivered
        assert states[fast]["state"] == "SUCCESS"
        assert stack.procs["worker-slow"].poll() is None
        time.sleep(1.0)  # a redelivery, if any, would show up now
        assert broker_counts(REDIS_URL) == (0, 0)
        with stack_store(stack) as store:
            job = store.get_job(slow)
            assert job is not None and job.attempts == 1
            tally = conservation(store, [slow, fast])
            assert tally.snos == 1 and store.snos_of_document(slow_doc_id(states, slow)) == []
    record(
        "R21[soft]",
        "task overruns the soft time limit (2 s; NLI sleeps 3 s per call), hard limit 5 s",
        f"job FAILURE '{states[slow]['error'][:60]}…' after 1 delivery, no SNO written, not redelivered; "
        f"same worker completed the next job in {next_seconds:.1f} s",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )


HARD_LIMITS = {"CNS_CELERY__TASK_SOFT_TIME_LIMIT_SECONDS": "2", "CNS_CELERY__TASK_TIME_LIMIT_SECONDS": "4"}


def pool_children(stack: Stack, name: str) -> list[int]:
    return [c.pid for c in psutil.Process(stack.procs[name].pid).children()]


def test_r21_hard_time_limit_kills_the_child_fails_the_job_once_and_the_worker_goes_on(
    tmp_path: Path,
) -> None:
    with service_stack(tmp_path, **HARD_LIMITS) as stack:
        stack.start_worker(
            "worker-hard",
            app="tests.service.slow_worker_app",
            CNS_FAKE_NLI_DELAY_SECONDS="30",
            CNS_FAKE_NLI_SLOW_MARKER="HARDDOC",
            CNS_FAKE_NLI_IGNORE_SOFT_LIMIT="1",
        )
        stack.start_api()
        wait_until(lambda: len(pool_children(stack, "worker-hard")) == 1, 60, "the prefork child")
        first_child = pool_children(stack, "worker-hard")
        hard_doc = {"source": "hard.txt", "text": "HARDDOC coffee helps memory. Therefore coffee is good."}
        submitted = time.monotonic()
        hard = httpx.post(f"{stack.api_url}/ingest", json=hard_doc, timeout=10).json()["job_id"]
        states = wait_terminal(stack, [hard], timeout=40)
        failed_after = time.monotonic() - submitted
        wait_until(
            lambda: len(kids := pool_children(stack, "worker-hard")) == 1 and kids != first_child,
            30,
            "the killed child to be replaced",
        )
        fast_doc = {
            "source": "fast.txt",
            "text": "Reading improves vocabulary. A study followed 30 children.",
        }
        started = time.monotonic()
        fast = httpx.post(f"{stack.api_url}/ingest", json=fast_doc, timeout=10).json()["job_id"]
        states.update(wait_terminal(stack, [fast], timeout=30))
        next_seconds = time.monotonic() - started
        error = states[hard]["error"]
        assert states[hard]["state"] == "FAILURE" and error.startswith("time_limit"), states
        assert "hard time limit of 4 s" in error, error  # the hook's row, not the body's soft one
        assert states[hard]["attempts"] == 1  # acked on timeout, not redelivered
        assert 4 <= failed_after < 20, failed_after  # at the hard limit, not at the 30 s sleep's end
        assert states[fast]["state"] == "SUCCESS" and states[fast]["attempts"] == 1
        assert stack.procs["worker-hard"].poll() is None  # the main process survived
        time.sleep(1.5)  # a redelivery, if any, would show up now
        assert broker_counts(REDIS_URL) == (0, 0)
        log = "\n".join(stack.log_lines()["worker-hard"])
        assert "Soft time limit (2s) exceeded" in log  # the soft limit fired and was swallowed
        assert "Hard time limit (4s) exceeded" in log and '"job.killed"' in log
        with stack_store(stack) as store:
            job = store.get_job(hard)
            assert job is not None and job.attempts == 1 and job.error == error
            tally = conservation(store, [hard, fast])
            assert tally.snos == 1 and store.snos_of_document(slow_doc_id(states, hard)) == []
            assert (tally.lost, tally.duplicated) == (0, 0)
    record(
        "R21[hard]",
        "task swallows the soft time limit (2 s) and sleeps on; the pool kills its child at the hard limit (4 s)",
        f"job FAILURE '{error[:60]}…' {failed_after:.1f} s after submit, written by the worker main "
        "process's Request.on_timeout hook (the body never runs again); 1 delivery, acked, not "
        f"redelivered, no SNO; child replaced, next job SUCCESS in {next_seconds:.1f} s",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )


def slow_doc_id(states: dict[str, dict[str, object]], job_id: str) -> str:
    return str(states[job_id]["document_id"])
