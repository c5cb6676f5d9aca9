"""S13: a ``/readyz`` storm costs one check (row S13 of docs/reliability.md).

Before: the verdict was timestamped when its check *started*, so with a slow worker canary every
queued caller ran the whole check again, one after another (12 concurrent calls took 5–60 s and
each left a canary task in the queue), and each waiting call held a server thread. Now callers
share the check in flight on an async lock and the verdict is cached from when it finished.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cns.api import create_app
from cns.api.readiness import ReadinessProbe
from cns.store.sql import SQLStore
from tests.api.api_helpers import RecordingPublisher, config_for
from tests.reliability.reliability_support import record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]
CANARY_SECONDS = 1.0


class SlowCanaryPublisher(RecordingPublisher):
    def __init__(self) -> None:
        super().__init__()
        self.canaries = 0

    def canary(self, timeout: float) -> None:
        self.canaries += 1
        time.sleep(CANARY_SECONDS)


def test_concurrent_readyz_calls_share_one_check(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    publisher = SlowCanaryPublisher()
    with SQLStore.open(config=config) as store:
        probe = ReadinessProbe(store, publisher, cache_seconds=30.0)
        app = create_app(config, store=store, publisher=publisher, readiness=probe)
        with TestClient(app) as client, ThreadPoolExecutor(12) as pool:
            start = time.perf_counter()
            statuses = list(pool.map(lambda _: client.get("/readyz").status_code, range(12)))
            storm = time.perf_counter() - start
            reads = client.get("/snos").status_code
    assert statuses == [200] * 12 and reads == 200
    assert publisher.canaries == 1 and probe.runs == 1, (publisher.canaries, probe.runs)
    record(
        "S13",
        f"12 concurrent GET /readyz, worker canary taking {CANARY_SECONDS:.0f} s",
        f"1 check and 1 canary shared by all 12 calls ({storm:.1f} s in all); GET /snos still 200 "
        "(before: every queued call re-ran the check, 5–60 s in all, one canary task each)",
        lost=0,
        duplicated=publisher.canaries - 1,
    )
