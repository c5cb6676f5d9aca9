"""With the broker unreachable the API answers 503 within 3 s and keeps the job for the reconciler."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.service.service_harness import free_port, service_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_post_ingest_with_redis_down_is_a_fast_503(tmp_path: Path) -> None:
    dead_broker = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with service_stack(tmp_path, CNS_BROKER_URL=dead_broker) as stack:
        stack.start_api()
        start = time.monotonic()
        response = httpx.post(
            f"{stack.api_url}/ingest", json={"source": "s", "text": "Some text."}, timeout=10
        )
        elapsed = time.monotonic() - start
        assert response.status_code == 503 and elapsed <= 3.0, (response.status_code, elapsed)
        job_id = response.json()["error"]["details"][0]["job_id"]
        assert httpx.get(f"{stack.api_url}/tasks/{job_id}", timeout=5).json()["state"] == "PENDING"
        assert httpx.get(f"{stack.api_url}/readyz", timeout=15).status_code == 503
        print(f"503 after {elapsed:.2f} s")
