"""Pure-ASGI middleware: request ids and access logs, body-size limit, per-client rate limit.

The rate limit buckets on the *verified* API key (see :mod:`cns.api.auth`), else the client address.

Pure ASGI (not ``BaseHTTPMiddleware``) so that the body limit acts on the raw ``receive``
stream: a declared ``Content-Length`` above the limit is answered with 413 before a single body
byte is read, and a chunked body is counted as it streams and cut off at limit + 1 bytes
(Starlette has no default limit, so without this one request could exhaust memory). The accepted body is replayed to the app, which would
read it whole anyway.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import structlog

from cns.api.auth import authenticate, client_address
from cns.api.errors import error_bytes, from_cns_error
from cns.api.ratelimit import Limiter
from cns.errors import CNSError
from cns.logging_setup import get_logger

log = get_logger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


async def send_error(send: Send, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    body = error_bytes(status, message)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if status in (408, 413):
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class RequestContextMiddleware:
    """Binds ``request_id`` for the whole request, echoes it, and logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id  # for the outermost 500 handler
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope.get("path") not in EXEMPT_PATHS:
                log.info(
                    "http.request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status,
                    duration_ms=round((time.perf_counter() - start) * 1000.0, 2),
                )
            structlog.contextvars.reset_contextvars(**tokens)


class BodySizeLimitMiddleware:
    """413 for bodies above ``max_bytes``: declared ones before reading, chunked ones while reading."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, read_timeout: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await send_error(send, 400, "invalid Content-Length header")
                return
            if too_large:
                await send_error(send, 413, f"request body exceeds {self.max_bytes} bytes")
                return
        chunks: list[bytes] = []
        # a half-sent body must not hold a connection (and its memory) forever: the whole body has
        # ``read_timeout`` seconds to arrive, then the client gets 408 and the connection is closed
        with anyio.move_on_after(self.read_timeout) as deadline:
            if not await self._read(receive, send, chunks):
                return
        if deadline.cancelled_caught:
            await send_error(send, 408, f"request body not received within {self.read_timeout:g} s")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, send: Send, chunks: list[bytes]) -> bool:
        """Read the body into ``chunks``; False when the request ended here (413 sent or disconnect)."""
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_error(send, 413, f"request body exceeds {self.max_bytes} bytes")
                return False
            chunks.append(chunk)
            if not message.get("more_body", False):
                return True


class RateLimitMiddleware:
    """429 when a client exceeds its token bucket (shared by the API processes through Redis; see
    :mod:`cns.api.shared_ratelimit`, and :mod:`cns.api.ratelimit` for the in-process fallback)."""

    def __init__(self, app: ASGIApp, *, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        try:
            client = await self._client_key(scope)
        except CNSError as exc:  # the key check needs the database: an outage is a 503, not a 500
            error = from_cns_error(exc)
            log.warning("api.error", status=error.status, error=type(exc).__name__)
            await send_error(send, error.status, error.message, headers=error.headers)
            return
        retry_after = await self.limiter.take(client)
        if retry_after > 0:
            await send_error(
                send,
                429,
                "rate limit exceeded; slow down",
                headers={"Retry-After": str(max(1, int(retry_after + 0.999)))},
            )
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _client_key(scope: Scope) -> str:
        """The verified key's id, else the client address.

        Never the *claimed* key id: random ids would each get a fresh bucket, and a real id with a
        wrong secret would spend its owner's budget. Unauthenticated and failed attempts share
        their address's bucket.
        """
        info = await authenticate(scope)
        if info is not None:
            return "key:" + info.key_id
        return "ip:" + client_address(scope)
