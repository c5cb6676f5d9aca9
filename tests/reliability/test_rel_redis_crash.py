"""R18: the broker Redis crashes (SIGKILL) with 50 jobs queued and no worker running.

* with the AOF (``appendonly yes``, ``appendfsync everysec``, the configuration anchors B.5 and
  the compose file use): Redis replays the log on restart, the 50 messages are back in the queue
  and a worker started afterwards completes all 50, once each;
* negative control, persistence off: the restarted Redis is empty — the messages are gone — and
  only the reconciler (run by ``cns beat``) brings the jobs back, by re-publishing every job still
  ``PENDING`` past its deadline N. All 50 complete within N + 60 s. This is why job state lives in
  the database and not in the broker.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest

from cns.testing.redis_server import SAFE_ARGS, VOLATILE_ARGS, RedisServer
from tests.reliability.rel_service import QUEUE, broker_counts, stack_store, wait_terminal
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import Stack, service_stack, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

JOBS = 50
#: N of the negative control: a job still PENDING this long after submission is re-published.
DEADLINE_SECONDS = 10
TEXT = "Sleep {n} improves recall in students. A trial followed {n} people. Therefore sleep helps."


def enqueue(stack: Stack, prefix: str) -> list[str]:
    documents = [{"source": f"{prefix}-{n}.txt", "text": TEXT.format(n=n)} for n in range(JOBS)]
    answer = httpx.post(f"{stack.api_url}/ingest/batch", json={"documents": documents}, timeout=30)
    assert answer.status_code == 202, answer.text
    return [item["job_id"] for item in answer.json()["items"]]


def crash_and_restart(broker: RedisServer) -> int:
    """Wait past one ``appendfsync everysec`` period, SIGKILL, restart on the same directory."""
    time.sleep(2.0)
    broker.crash()
    broker.restart()
    client = broker.client()
    try:
        return int(client.llen(QUEUE))
    finally:
        client.close()


def test_r18_redis_crash_with_aof_loses_no_queued_job(tmp_path: Path) -> None:
    with (
        RedisServer(tmp_path / "redis", *SAFE_ARGS) as broker,
        service_stack(tmp_path, CNS_BROKER_URL=broker.url) as stack,
    ):
        stack.start_api()
        jobs = enqueue(stack, "aof")
        assert broker_counts(broker.url) == (JOBS, 0)
        replayed = crash_and_restart(broker)
        assert replayed == JOBS  # the AOF brought every message back
        started = time.monotonic()
        stack.start_worker()
        states = wait_terminal(stack, jobs, timeout=120)
        seconds = time.monotonic() - started
        assert all(s["state"] == "SUCCESS" and s["attempts"] == 1 for s in states.values())
        wait_until(lambda: broker_counts(broker.url) == (0, 0), 15, "queue and unacked to drain")
        with stack_store(stack) as store:
            tally = conservation(store, jobs)
            assert tally.jobs == tally.snos == JOBS
    record(
        "R18",
        f"worker stopped, {JOBS} jobs enqueued, 2 s later broker Redis SIGKILLed and restarted "
        "on the same dir (appendonly yes, appendfsync everysec)",
        f"AOF replayed {replayed}/{JOBS} messages; a worker started afterwards completed all {JOBS} "
        f"in {seconds:.1f} s, each delivered once",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )


def test_r18_negative_control_without_persistence_only_the_reconciler_recovers(tmp_path: Path) -> None:
    timing = {
        "CNS_CELERY__JOB_DEADLINE_SECONDS": str(DEADLINE_SECONDS),
        "CNS_CELERY__RECONCILE_INTERVAL_SECONDS": "2",
        "CNS_CELERY__FIND_PAIRS_INTERVAL_SECONDS": "3600",
    }
    with (
        RedisServer(tmp_path / "redis", *VOLATILE_ARGS) as broker,
        service_stack(tmp_path, CNS_BROKER_URL=broker.url, **timing) as stack,
    ):
        stack.start_api()
        submitted = time.monotonic()
        jobs = enqueue(stack, "volatile")
        assert broker_counts(broker.url) == (JOBS, 0)
        survived = crash_and_restart(broker)
        assert survived == 0  # every queued message vanished with the process
        stack.start_worker()
        stack.start("beat", [sys.executable, "-m", "cns.cli.service_cmd", "beat"])
        states = wait_terminal(stack, jobs, timeout=DEADLINE_SECONDS + 60)
        recovered = time.monotonic() - submitted
        assert all(s["state"] == "SUCCESS" for s in states.values()), states
        assert recovered <= DEADLINE_SECONDS + 60
        requeued = sum('"reconcile.requeued"' in line for line in stack.log_lines()["worker"])
        assert requeued >= JOBS  # the reconciler, not the broker, brought them back
        with stack_store(stack) as store:
            tally = conservation(store, jobs)
            assert tally.jobs == tally.snos == JOBS
    record(
        "R18[negative control]",
        f"same as R18 with persistence off (appendonly no, no snapshots); reconciler deadline N = "
        f"{DEADLINE_SECONDS} s, swept every 2 s by `cns beat`",
        f"{survived}/{JOBS} messages survived the restart; the reconciler re-published {requeued} "
        f"overdue PENDING jobs and all {JOBS} completed {recovered:.1f} s after submission (≤ N + 60 s)",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
