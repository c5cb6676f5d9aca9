"""S12: ``X-Forwarded-For`` is believed only from configured proxies (real ``cns serve``).

uvicorn trusts forwarded headers from 127.0.0.1 by default, and ``cns serve`` turned them on, so a
local client got a fresh rate-limit bucket per made-up ``X-Forwarded-For``. Now
``service.trusted_proxies`` is empty by default (the peer address names the client); the control
run lists 127.0.0.1 as a proxy and shows the header is then honoured.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from cns.cli.service_cmd import uvicorn_options
from cns.config import CNSConfig
from tests.reliability.reliability_support import record
from tests.service.service_harness import service_stack

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(600)]


def _spoofed_statuses(tmp: Path, **env: str) -> Counter[int]:
    with service_stack(tmp, CNS_SERVICE__RATE_LIMIT_PER_MINUTE="6", **env) as stack:
        stack.start_api(wait_seconds=180)
        with httpx.Client(base_url=stack.api_url, timeout=60) as client:
            return Counter(
                client.get("/snos", headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"}).status_code
                for i in range(40)
            )


def test_forwarded_for_from_an_untrusted_peer_does_not_pick_the_bucket(tmp_path: Path) -> None:
    assert uvicorn_options(CNSConfig())["proxy_headers"] is False
    spoofed = _spoofed_statuses(tmp_path / "default")
    assert spoofed[429] >= 30, spoofed  # burst 1, 6/min: one bucket for the one real peer
    trusted = _spoofed_statuses(tmp_path / "trusted", CNS_SERVICE__TRUSTED_PROXIES='["127.0.0.1"]')
    assert trusted[429] == 0 and trusted[200] == 40, trusted  # control: a trusted proxy's header counts
    record(
        "S12",
        "40 GET /snos from 127.0.0.1, each with a different X-Forwarded-For (limit 6/min, burst 1)",
        f"default: {spoofed[200]} × 200, {spoofed[429]} × 429 (one bucket for the real peer); with "
        f"service.trusted_proxies=[127.0.0.1]: {trusted[200]} × 200 (before: every spoofed address got "
        "its own bucket by default)",
        lost=0,
        duplicated=0,
    )
