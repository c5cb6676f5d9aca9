"""R16: Redis shut down and restarted three times within seconds while the worker is idle; a job
submitted afterwards completes without restarting the API or the worker (celery#8091/#8030/#9054).

The broker is a private ``redis-server`` on a free port (no persistence), so restarting it does not
disturb the shared test Redis.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import redis

from tests.reliability.rel_service import broker_counts, stack_store, submit_with_key, wait_terminal
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import Stack, free_port, service_stack, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]


def start_redis(stack: Stack, port: int, tmp: Path) -> None:
    stack.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", str(tmp)])  # fmt: skip
    client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)

    def pings() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    wait_until(pings, 10, "redis to answer", interval=0.05)
    client.close()


def test_r16_repeated_redis_restarts_need_no_worker_or_api_restart(tmp_path: Path) -> None:
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    with service_stack(tmp_path, CNS_BROKER_URL=broker) as stack:
        start_redis(stack, port, tmp_path)
        stack.start_worker()
        stack.start_api()
        first = submit_with_key(stack, "before", "Music helps focus in students. A trial followed 40 people.")
        assert wait_terminal(stack, [first], timeout=60)[first]["state"] == "SUCCESS"
        restarts_started = time.monotonic()
        for _ in range(3):
            stack.kill("redis", signal.SIGTERM)  # SIGTERM = SHUTDOWN (no save configured)
            start_redis(stack, port, tmp_path)
        restart_seconds = time.monotonic() - restarts_started
        submitted = time.monotonic()
        second = submit_with_key(
            stack, "after", "Noise harms sleep in city residents. A survey asked 500 people."
        )
        states = wait_terminal(stack, [second], timeout=30)
        recovery = time.monotonic() - submitted
        assert states[second]["state"] == "SUCCESS" and states[second]["attempts"] == 1, states
        assert all(p.poll() is None for n, p in stack.procs.items() if n in ("api", "worker"))
        assert broker_counts(broker) == (0, 0)
        with stack_store(stack) as store:
            tally = conservation(store, [first, second])
            assert tally.jobs == tally.snos == 2
    record(
        "R16",
        f"Redis shut down and restarted 3× in {restart_seconds:.1f} s, worker idle",
        f"job submitted afterwards SUCCESS after {recovery:.1f} s, attempts 1; no API or worker restart",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
