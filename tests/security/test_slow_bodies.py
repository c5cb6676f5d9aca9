"""S16: a half-sent request body times out with 408 (row S16 of docs/reliability.md).

Before: a client that sent headers and part of a body and then stalled kept its connection open
for ever (3,000 such connections were all still open after 20 s). Now the body has
``service.body_read_timeout_seconds`` to arrive; then the answer is 408 and the connection closes.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

import anyio
import pytest

from cns.api.middleware import BodySizeLimitMiddleware
from cns.cli.service_cmd import uvicorn_options
from cns.config import CNSConfig
from tests.reliability.reliability_support import record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]
Message = MutableMapping[str, Any]


def test_a_stalled_body_gets_408_after_the_read_timeout() -> None:
    sent: list[Message] = []
    reached_app: list[bool] = []

    async def app(scope: Message, receive: Any, send: Any) -> None:
        reached_app.append(True)

    async def receive() -> Message:
        if not sent and not getattr(receive, "first", False):
            receive.first = True  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b'{"source": "s", "te', "more_body": True}
        await anyio.sleep(3600)  # the client never sends the rest
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/ingest", "headers": [(b"content-length", b"500")]}
    middleware = BodySizeLimitMiddleware(app, max_bytes=1_000_000, read_timeout=0.5)
    start = time.perf_counter()
    anyio.run(middleware, scope, receive, send)
    waited = time.perf_counter() - start
    assert sent[0]["status"] == 408 and (b"connection", b"close") in sent[0]["headers"]
    assert b"request_timeout" in sent[1]["body"] and not reached_app
    assert 0.4 < waited < 5.0
    options = uvicorn_options(CNSConfig())
    assert options["limit_concurrency"] == CNSConfig().service.max_connections
    record(
        "S16",
        "POST /ingest: headers and 18 of 500 body bytes, then the client stalls (read timeout 0.5 s)",
        f"408 request_timeout after {waited:.1f} s, connection closed, the route never ran; `cns serve` "
        f"caps connections at service.max_connections={options['limit_concurrency']} (before: open forever)",
        lost=0,
        duplicated=0,
    )
