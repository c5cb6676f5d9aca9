"""R17 (Redis freeze, a silent peer) and R25 (the liveness probe catches the stall), in one run.

The broker is a private ``redis-server`` frozen with SIGSTOP for at least 10 s (until the posts
and the probe run during the freeze have answered): its port still accepts connections but
nothing answers, which is how a hung or partitioned Redis looks to a client.

* R17: during the freeze ``POST /ingest`` answers 503 within the socket timeout (≤ 5 s) and the
  API stays responsive; within 30 s of SIGCONT the worker consumes again; every job accepted
  before the freeze completes exactly once, and so do the ones answered 503 (their rows were
  committed first; the reconciler publishes them).
* R25: ``cns probe`` (control ping + canary round-trip, 10 s deadline) reports healthy before,
  unhealthy during, and healthy again within 30 s after the freeze, while a PID check of the
  worker stays green throughout (the check that misses silent stalls).
* R24 (again): every log line of the API and the worker during the freeze is structured JSON.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from cns.config import CNSConfig
from cns.services.reconcile import reconcile_jobs
from cns.store.sql import JobState
from cns.testing.redis_server import RedisServer
from cns.worker.celery_app import QUEUE, make_celery
from cns.worker.publisher import CeleryPublisher
from tests.reliability.rel_service import (
    broker_counts,
    stack_store,
    structured_log_problems,
    submit_with_key,
    wait_terminal,
)
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import Stack, service_stack, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(240)]

FREEZE_SECONDS = 10.0  # at least: the freeze lasts until the posts and the probe during it have answered
TEXT = "Walking {n} improves mood in adults. A trial followed 60 people. Therefore walking helps."


def run_probe(stack: Stack) -> tuple[int, float]:
    """``cns probe`` as a container health check runs it: (exit status, seconds)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cns.cli.service_cmd", "probe", "--deadline", "10"],
        env=stack.env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    print(done.stdout.decode()[-600:])  # shown when the test fails
    return done.returncode, time.monotonic() - started


def pid_check(stack: Stack, name: str) -> bool:
    """What a PID-only liveness check sees: the process exists and is not a zombie."""
    proc = stack.procs[name]
    return proc.poll() is None and psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE


def post_during_freeze(stack: Stack, key: str) -> tuple[int, float]:
    started = time.monotonic()
    answer = httpx.post(
        f"{stack.api_url}/ingest",
        json={"source": f"{key}.txt", "text": TEXT.format(n=key)},
        headers={"Idempotency-Key": key},
        timeout=30,
    )
    return answer.status_code, time.monotonic() - started


def test_r17_r25_redis_freeze_then_recovery(tmp_path: Path) -> None:
    with (
        RedisServer(tmp_path / "redis") as broker,
        service_stack(tmp_path, CNS_BROKER_URL=broker.url) as stack,
    ):
        stack.start_worker("worker", app="tests.service.slow_worker_app", CNS_FAKE_NLI_DELAY_SECONDS="0.5")
        stack.start_api()
        wait_until(lambda: run_probe(stack)[0] == 0, 60, "the probe to report a started worker healthy")
        batch = {"documents": [{"source": f"before-{n}.txt", "text": TEXT.format(n=n)} for n in range(6)]}
        accepted = httpx.post(f"{stack.api_url}/ingest/batch", json=batch, timeout=10)
        assert accepted.status_code == 202, accepted.text
        before = [item["job_id"] for item in accepted.json()["items"]]

        broker.freeze()
        frozen_at = time.monotonic()
        with stack_store(stack) as store:
            unfinished = sum(store.get_job(j).state is not JobState.SUCCESS for j in before)  # type: ignore[union-attr]
        # the probe (a process of its own, up to its 10 s deadline) runs while the API is tried
        with ThreadPoolExecutor(1) as pool:
            probe = pool.submit(run_probe, stack)
            rejected = [post_during_freeze(stack, f"frozen-{n}") for n in range(3)]
            health = [httpx.get(f"{stack.api_url}/healthz", timeout=5) for _ in range(5)]
            probe_during, probe_seconds = probe.result()
        pid_green_during = pid_check(stack, "worker")
        time.sleep(max(0.0, FREEZE_SECONDS - (time.monotonic() - frozen_at)))
        broker.thaw()
        thawed_at = time.monotonic()

        wait_until(lambda: run_probe(stack)[0] == 0, 30, "the probe to report healthy again", interval=0.5)
        probe_recovered = time.monotonic() - thawed_at
        after = submit_with_key(stack, "after", TEXT.format(n="after"))
        states = wait_terminal(stack, [*before, after], timeout=max(5.0, 30 - (time.monotonic() - thawed_at)))
        consumed_again = time.monotonic() - thawed_at

        assert unfinished >= 3  # the freeze caught work in flight
        assert [status for status, _ in rejected] == [503, 503, 503], rejected
        assert max(seconds for _, seconds in rejected) <= 5.0, rejected
        assert all(h.status_code == 200 and h.elapsed.total_seconds() < 1.0 for h in health)
        assert probe_during == 1 and probe_seconds <= 15.0, (probe_during, probe_seconds)
        assert pid_green_during and pid_check(stack, "worker")  # PID check never noticed
        assert all(s["state"] == "SUCCESS" for s in states.values()), states

        config = CNSConfig(broker_url=broker.url)
        publisher = CeleryPublisher(make_celery(config, role="api"), deadline_seconds=5, queue=QUEUE)
        with stack_store(stack) as store:
            frozen_jobs = [
                j.job_id for j in store.list_jobs() if j.payload.get("source", "").startswith("frozen-")
            ]
            assert len(frozen_jobs) == 3  # committed before the publish failed (outbox)
            sweep = reconcile_jobs(store=store, publisher=publisher, config=config)
            # a publish that timed out may still sit in the frozen server's socket buffer and be
            # executed after SIGCONT (the client cannot tell): such a job is running or done already
            assert set(sweep.requeued) <= set(frozen_jobs), sweep
        publisher.app.close()
        late = wait_terminal(stack, frozen_jobs, timeout=30)
        assert all(s["state"] == "SUCCESS" for s in late.values()), late
        wait_until(lambda: broker_counts(broker.url) == (0, 0), 15, "queue and unacked to drain")
        log_problems = structured_log_problems(stack.log_lines(), document_text=TEXT.format(n="before-0"))
        assert log_problems == [], log_problems[:5]
        with stack_store(stack) as store:
            tally = conservation(store, [*before, after, *frozen_jobs])
            assert tally.jobs == tally.snos == 10
        lines = sum(len(v) for v in stack.log_lines().values())

    worst = max(seconds for _, seconds in rejected)
    record(
        "R17",
        f"broker Redis frozen (SIGSTOP) for {thawed_at - frozen_at:.0f} s; {unfinished} of 6 jobs accepted just "
        "before were still queued or running",
        f"POST /ingest → 503 in ≤ {worst:.1f} s (3 tries), /healthz 200 < 1 s; after SIGCONT the worker "
        f"consumed again ({consumed_again:.1f} s to finish all 7 jobs); the 3 documents answered 503 were "
        f"committed first and completed ({len(sweep.requeued)} re-published by one reconciler sweep, the "
        "rest delivered from the publish the frozen server had buffered)",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
    record(
        "R25",
        "liveness during the R17 freeze: `cns probe` (control ping + canary, 10 s deadline) vs a PID check",
        f"probe healthy before, unhealthy during (exit 1 in {probe_seconds:.1f} s), healthy "
        f"{probe_recovered:.1f} s after SIGCONT; the PID check stayed green throughout",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
    record(
        "R24[R17]",
        "structured logs of the API and worker during the R17 freeze",
        f"all {lines} lines are JSON with timestamp/level/event; no document text beyond the preview",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
