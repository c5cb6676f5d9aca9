"""R03, R04: oversized bodies get 413 from real uvicorn before the upload is read, without RSS growth.

A declared ``Content-Length`` over the limit is refused before the first body byte is read; a
chunked body is counted while it streams and cut off just past the limit (cns.api.middleware).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import psutil
import pytest

from tests.reliability.rel_service import stack_store, upload
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import Stack, service_stack

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

LIMIT = 1_048_576  # 1 MiB


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with service_stack(tmp_path_factory.mktemp("limits"), CNS_SERVICE__MAX_BODY_BYTES=str(LIMIT)) as stack:
        stack.start_api()
        yield stack


def rss(stack: Stack) -> int:
    return int(psutil.Process(stack.procs["api"].pid).memory_info().rss)


def test_r03_declared_oversize_is_413_before_the_upload_finishes(api_stack: Stack) -> None:
    before = rss(api_stack)

    def slow_body() -> Iterator[bytes]:
        for _ in range(LIMIT // 1024 + 1):
            yield b"x" * 1024

    result = upload(
        api_stack.api_url,
        {"Content-Type": "application/json", "Content-Length": str(LIMIT + 1)},
        slow_body(),
        pause=0.01,  # ~100 KiB/s: the whole upload would take ~10 s
    )
    growth = rss(api_stack) - before
    assert result.status == 413, result
    assert json.loads(result.body)["error"]["type"] == "payload_too_large"
    assert result.seconds < 1.0 and result.sent < LIMIT, result
    assert growth < 20 * 2**20, growth
    with stack_store(api_stack) as store:
        tally = conservation(store)
    record(
        "R03",
        f"Content-Length = limit + 1 ({LIMIT + 1} B), body streamed slowly (real uvicorn)",
        f"413 after {result.seconds:.2f} s with {result.sent} of {LIMIT + 1} B sent; "
        f"API RSS +{growth / 2**20:.1f} MiB; job rows {tally.jobs}",
        lost=tally.lost,
        duplicated=tally.duplicated + tally.jobs,
    )


def test_r04_chunked_oversize_is_cut_off_at_the_limit(api_stack: Stack) -> None:
    before = rss(api_stack)
    chunk = b"x" * 65536
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"

    def two_hundred_mib() -> Iterator[bytes]:
        for _ in range(200 * 2**20 // len(chunk)):
            yield frame

    result = upload(
        api_stack.api_url,
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        two_hundred_mib(),
    )
    growth = rss(api_stack) - before
    assert result.status == 413, result
    assert json.loads(result.body)["error"]["type"] == "payload_too_large"
    assert result.sent < 200 * 2**20 // 4, result.sent  # stopped long before the 200 MiB
    assert growth < 50 * 2**20, growth
    # the server closes the connection after the 413; with unread request bytes in its socket
    # buffer the kernel turns that close into a reset, which is what an HTTP client sees as "closed"
    assert result.closed in ("fin", "rst"), result.closed
    with stack_store(api_stack) as store:
        tally = conservation(store)
    record(
        "R04",
        "chunked 200 MiB body, no Content-Length (real uvicorn)",
        f"413 after {result.sent / 2**20:.1f} MiB handed to the socket (limit {LIMIT / 2**20:.0f} MiB); "
        f"connection closed by the server ({result.closed.upper()}); API RSS +{growth / 2**20:.1f} MiB; job rows {tally.jobs}",
        lost=tally.lost,
        duplicated=tally.duplicated + tally.jobs,
    )
