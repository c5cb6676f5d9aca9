"""R07, R08, R13 against real uvicorn, Redis, PostgreSQL and Celery worker subprocesses.

* R07: 20 threads POST one Idempotency-Key at once → one job row (the unique constraint decides),
  one message, one execution;
* R08: the broker is down at submit → a fast 503, the job kept for the reconciler, ``/readyz``
  503; once Redis is up a retry with the same key publishes the same job, without an API restart;
* R13: a poison document that kills its worker child on every delivery is failed with reason
  ``max_deliveries`` after the cap, while the same worker keeps serving other documents.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from cns.store.sql import JobState
from tests.reliability.rel_service import broker_counts, stack_store, structured_log_problems, wait_terminal
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import REDIS_URL, free_port, service_stack, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]

DOC = {"source": "conc.txt", "text": "Tea improves focus in adults. A trial followed 80 people."}


def test_r07_twenty_concurrent_posts_with_one_key_make_one_job(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_api()
        barrier = threading.Barrier(20)
        responses: list[tuple[int, dict[str, Any]]] = []
        lock = threading.Lock()

        def post() -> None:
            with httpx.Client(timeout=30) as client:
                barrier.wait()
                r = client.post(f"{stack.api_url}/ingest", json=DOC, headers={"Idempotency-Key": "key-r07"})
            with lock:
                responses.append((r.status_code, r.json()))

        threads = [threading.Thread(target=post) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(responses) == 20 and {s for s, _ in responses} == {202}, responses
        job_ids = {str(body["job_id"]) for _, body in responses}
        assert len(job_ids) == 1 and sum(1 for _, b in responses if b["created"]) == 1
        queued, _ = broker_counts(REDIS_URL)
        assert queued == 1  # published once; no worker is running yet
        stack.start_worker()
        [state] = wait_terminal(stack, sorted(job_ids), timeout=60).values()
        assert state["state"] == "SUCCESS" and state["attempts"] == 1  # the task body ran once
        with stack_store(stack) as store:
            tally = conservation(store, job_ids)
            assert tally.jobs == 1 and tally.snos == 1
        record(
            "R07",
            "20 threads POST the same Idempotency-Key at once (uvicorn + PostgreSQL)",
            f"20×202 with one job_id (created=true once); job rows {tally.jobs}, messages {queued}, "
            f"executions {state['attempts']}, SNOs {tally.snos}",
            lost=tally.lost,
            duplicated=tally.duplicated + (queued - 1) + (state["attempts"] - 1),
        )


def test_r08_broker_down_is_a_fast_503_and_the_job_survives(tmp_path: Path) -> None:
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"  # nothing listens there yet
    headers = {"Idempotency-Key": "key-r08"}
    with service_stack(tmp_path, CNS_BROKER_URL=broker) as stack:
        stack.start_api()
        start = time.monotonic()
        down = httpx.post(f"{stack.api_url}/ingest", json=DOC, headers=headers, timeout=10)
        elapsed = time.monotonic() - start
        assert down.status_code == 503 and elapsed <= 3.0, (down.status_code, elapsed)
        assert down.headers.get("retry-after") and down.json()["error"]["type"] == "service_unavailable"
        job_id = down.json()["error"]["details"][0]["job_id"]
        with stack_store(stack) as store:
            job = store.get_job(job_id)
            assert job is not None and job.state is JobState.PENDING
            assert [j.job_id for j in store.overdue_jobs()] == [job_id]  # the reconciler will publish it
            assert len(store.list_jobs()) == 1
        ready = httpx.get(f"{stack.api_url}/readyz", timeout=20)
        assert ready.status_code == 503, ready.text

        stack.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(tmp_path)])  # fmt: skip
        client = redis.Redis.from_url(broker, socket_timeout=2)
        wait_until(lambda: _pings(client), 15, "the new Redis to answer")
        retried: list[httpx.Response] = []

        def retry_succeeds() -> bool:
            retried.append(httpx.post(f"{stack.api_url}/ingest", json=DOC, headers=headers, timeout=10))
            return retried[-1].status_code == 202

        wait_until(retry_succeeds, 20, "a POST to succeed once Redis is up", interval=0.5)
        replay = retried[-1].json()
        assert replay["job_id"] == job_id and replay["created"] is False
        fresh = httpx.post(f"{stack.api_url}/ingest", json={**DOC, "text": "Another text."}, timeout=10)
        assert fresh.status_code == 202
        queued, _ = broker_counts(broker)
        assert queued == 2  # the recovered job and the fresh one, each once
        client.close()
        with stack_store(stack) as store:
            tally = conservation(store, [job_id, fresh.json()["job_id"]], [job_id, fresh.json()["job_id"]])
        record(
            "R08",
            "broker down at submit (nothing listens on the broker port), then Redis started",
            f"503 in {elapsed:.2f} s with Retry-After; job kept PENDING+overdue for the reconciler; /readyz "
            f"503; after Redis started the same-key retry → 202 same job (no API restart); "
            f"queue {queued}",
            lost=tally.lost,
            duplicated=tally.duplicated + queued - 2,
        )


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_r13_poison_document_fails_after_max_deliveries_and_the_worker_survives(tmp_path: Path) -> None:
    with service_stack(tmp_path, CNS_CELERY__MAX_DELIVERIES="3") as stack:
        stack.start_worker(
            "worker-poison", app="tests.service.slow_worker_app", CNS_FAKE_NLI_CRASH_MARKER="POISONPILL"
        )
        stack.start_api()
        poison = {
            "source": "poison.txt",
            "text": "Coffee is POISONPILL good for the memory of adults in a long trial with many people. "
            "Therefore coffee helps memory, according to the private report.",
        }
        bad = httpx.post(f"{stack.api_url}/ingest", json=poison, timeout=10).json()["job_id"]
        states = wait_terminal(stack, [bad], timeout=90)
        good = httpx.post(f"{stack.api_url}/ingest", json=DOC, timeout=10).json()["job_id"]
        started = time.monotonic()
        states.update(wait_terminal(stack, [good], timeout=30))
        next_job_seconds = time.monotonic() - started
        assert states[bad]["state"] == "FAILURE" and states[bad]["error"].startswith("max_deliveries"), states
        assert states[bad]["attempts"] == 3
        assert states[good]["state"] == "SUCCESS"
        assert stack.procs["worker-poison"].poll() is None  # the worker main process is alive
        wait_until(lambda: broker_counts(REDIS_URL) == (0, 0), 15, "queue and unacked to drain")
        lines = stack.log_lines()
        crashes = sum("WorkerLostError" in line for line in lines["worker-poison"])
        log_problems = structured_log_problems(lines, document_text=poison["text"])
        assert log_problems == [], log_problems[:5]
        with stack_store(stack) as store:
            tally = conservation(store, [bad, good])
            assert tally.snos == 1
        record(
            "R13",
            "poison document: the NLI SIGKILLs its worker child on every delivery (cap 3)",
            f"FAILURE max_deliveries after {states[bad]['attempts']} deliveries ({crashes} WorkerLostError "
            f"log lines); queue and unacked empty; same worker completed the next job in "
            f"{next_job_seconds:.1f} s",
            lost=tally.lost,
            duplicated=tally.duplicated,
        )
        events = sum(len(v) for v in lines.values())
        record(
            "R24",
            "structured logs of the API and worker during R13 (3 child SIGKILLs, poison failure)",
            f"all {events} lines are JSON with timestamp/level/event; job events carry job_id and task_id; "
            "the document text never appears beyond the preview length",
            lost=tally.lost,
            duplicated=tally.duplicated,
        )
