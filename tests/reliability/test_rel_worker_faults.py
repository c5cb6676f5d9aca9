"""R12, R22: a worker child killed mid-task, and malformed task messages, against a real worker.

* R12: the fake NLI sleeps so a task is in flight; its prefork child is SIGKILLed (an OOM kill).
  The worker main process releases the dead child's job lease, ``task_reject_on_worker_lost``
  puts the message back, the replacement child claims and completes it: attempts = 2, one SNO.
* R12 negative control: the same kill with ``task_reject_on_worker_lost=False``
  (``tests/service/no_reject_worker_app.py``): Celery acks the lost message, the job ends FAILURE
  with ``WorkerLostError`` (written by :class:`cns.worker.job_request.JobRequest` in the worker's
  main process), is never redelivered and its document is never processed — why the flag is on.
* R22: messages with wrong arguments fail without retry; a pickle-encoded message is refused
  (JSON only) and never executed; the worker keeps serving the next job.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import httpx
import psutil
import pytest

from cns.config import CNSConfig
from cns.services.jobs import submit_ingestion
from cns.services.reconcile import reconcile_jobs
from cns.store.sql import JobState
from cns.store.sql.schema import utcnow
from cns.worker.celery_app import PROCESS_INGESTION, make_celery
from tests.api.api_helpers import RecordingPublisher
from tests.reliability.rel_service import (
    broker_counts,
    stack_store,
    submit_and_wait_started,
    wait_terminal,
)
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import REDIS_URL, service_stack, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]

DOC = {
    "source": "crash.txt",
    "text": "Walking improves mood in adults. A trial followed 60 people. Therefore walk.",
}


def test_r12_child_killed_mid_task_is_redelivered_and_completed_once(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_worker(
            "worker-slow", app="tests.service.slow_worker_app", CNS_FAKE_NLI_DELAY_SECONDS="1.0"
        )
        stack.start_api()
        job_id = submit_and_wait_started(stack, DOC)
        time.sleep(0.3)  # inside the slow NLI call
        main = psutil.Process(stack.procs["worker-slow"].pid)
        children = main.children()
        assert len(children) == 1, children  # --concurrency 1: one prefork child
        os.kill(children[0].pid, signal.SIGKILL)
        killed = time.monotonic()
        states = wait_terminal(stack, [job_id], timeout=30)
        recovery = time.monotonic() - killed
        assert states[job_id]["state"] == "SUCCESS" and states[job_id]["attempts"] == 2, states
        assert stack.procs["worker-slow"].poll() is None  # the main process survived
        wait_until(lambda: broker_counts(REDIS_URL) == (0, 0), 15, "queue and unacked to drain")
        log = "\n".join(stack.log_lines()["worker-slow"])
        assert '"job.lease_released"' in log  # the main process freed the dead child's lease first
        with stack_store(stack) as store:
            tally = conservation(store, [job_id])
            assert tally.snos == 1
        record(
            "R12",
            "prefork child SIGKILLed mid-task (simulated OOM), reject_on_worker_lost on",
            f"the worker main process released the dead child's job lease, then Celery requeued the message; "
            f"job SUCCESS {recovery:.1f} s after the kill with attempts=2; one SNO; queue and unacked empty",
            lost=tally.lost,
            duplicated=tally.duplicated,
        )


def test_r12_negative_control_without_reject_on_worker_lost_fails_the_job(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_worker(
            "worker-noreject",
            app="tests.service.no_reject_worker_app",
            CNS_FAKE_NLI_DELAY_SECONDS="3.0",
            CNS_FAKE_NLI_SLOW_MARKER="LOSTDOC",
        )
        stack.start_api()
        # the marker is in both sentences the NLI compares, so the kill lands inside a 3 s call
        lost_doc = {"source": "lost.txt", "text": "LOSTDOC walking improves mood. Therefore walking is good."}
        job_id = submit_and_wait_started(stack, lost_doc)
        time.sleep(0.5)  # inside the slow NLI call
        children = psutil.Process(stack.procs["worker-noreject"].pid).children()
        assert len(children) == 1, children
        os.kill(children[0].pid, signal.SIGKILL)
        killed = time.monotonic()
        states = wait_terminal(stack, [job_id], timeout=30)
        failed_after = time.monotonic() - killed
        error = states[job_id]["error"]
        assert states[job_id]["state"] == "FAILURE" and states[job_id]["attempts"] == 1, states
        assert error.startswith("WorkerLostError: ") and "SIGKILL" in error, error
        next_doc = {"source": "next.txt", "text": "Sunlight helps sleep. A survey asked 200 adults."}
        next_id = httpx.post(f"{stack.api_url}/ingest", json=next_doc, timeout=10).json()["job_id"]
        states.update(wait_terminal(stack, [next_id], timeout=30))
        assert states[next_id]["state"] == "SUCCESS"  # the replacement child serves the next job
        assert stack.procs["worker-noreject"].poll() is None
        time.sleep(1.5)  # a redelivery, if any, would show up now
        assert broker_counts(REDIS_URL) == (0, 0)  # acked: nothing queued, nothing unacked
        log = "\n".join(stack.log_lines()["worker-noreject"])
        assert '"job.killed"' in log and "job.completed" in log
        with stack_store(stack) as store:
            job = store.get_job(job_id)
            assert job is not None and job.state is JobState.FAILURE and job.attempts == 1  # not redelivered
            assert store.snos_of_document(str(states[job_id]["document_id"])) == []  # the work is not done
            tally = conservation(store, [job_id, next_id])
            assert (tally.lost, tally.duplicated, tally.jobs, tally.snos) == (0, 0, 2, 1)
        record(
            "R12[negative control]",
            "prefork child SIGKILLed mid-task with task_reject_on_worker_lost=False (test-only worker app)",
            f"Celery acks the lost message: job FAILURE '{error[:70]}' {failed_after:.1f} s after the kill "
            "(written by the worker main process's Request.on_failure hook), attempts=1, never redelivered, "
            "no SNO: the document is NOT processed. lost=0 only because the failure is recorded and visible "
            "in GET /tasks/{id} (not silently lost) — the work still has to be resubmitted, which is why the "
            "product keeps reject_on_worker_lost on (R12: redelivered, SUCCESS)",
            lost=tally.lost,
            duplicated=tally.duplicated,
        )


def test_r22_malformed_and_pickled_messages_are_never_executed(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_worker()
        stack.start_api()
        config = CNSConfig(broker_url=REDIS_URL)
        sender = make_celery(config, role="api")
        with stack_store(stack) as store:
            held = submit_ingestion(
                store=store,
                publisher=RecordingPublisher(),
                config=config,
                source="held.txt",
                text=DOC["text"],
            ).job.job_id  # a real job whose only message will be the pickled one
        for args in ([], [{"job_id": "x"}, "extra"], ["no-such-job"], [12345]):
            sender.send_task(PROCESS_INGESTION, args=args, ignore_result=True)
        sender.send_task(PROCESS_INGESTION, args=[held], serializer="pickle", ignore_result=True)
        good = httpx.post(
            f"{stack.api_url}/ingest", json={**DOC, "text": "Sunlight helps sleep."}, timeout=10
        )
        good_id = good.json()["job_id"]
        states = wait_terminal(stack, [good_id], timeout=30)
        assert states[good_id]["state"] == "SUCCESS"
        wait_until(lambda: broker_counts(REDIS_URL) == (0, 0), 15, "queue and unacked to drain")
        lines = "\n".join(stack.log_lines()["worker"])
        assert '"job.retry"' not in lines  # bad arguments are not retried
        assert "untrusted content" in lines or "disallowed" in lines.lower(), lines[-2000:]
        assert stack.procs["worker"].poll() is None
        with stack_store(stack) as store:
            job = store.get_job(held)
            assert job is not None and job.state is JobState.PENDING and job.attempts == 0  # never ran
            later = utcnow() + timedelta(seconds=config.celery.job_deadline_seconds + 1)
            sweep = reconcile_jobs(
                store=store, publisher=(swept := RecordingPublisher()), config=config, now=later
            )
            assert sweep.requeued == [held] and swept.sent == [(PROCESS_INGESTION, (held,))]
            tally = conservation(store, [good_id, held], [held])  # the sweep re-published it
            assert tally.jobs == 2 and tally.snos == 1
        sender.close()
        record(
            "R22",
            "task messages with wrong/missing/unknown-job arguments, and a pickle-encoded message",
            "bad arguments fail without retry or side effects; pickle refused as untrusted content and "
            "not executed (its job stays PENDING, attempts 0; the reconciler re-publishes it after its deadline); "
            "next job SUCCESS",
            lost=tally.lost,
            duplicated=tally.duplicated,
        )
