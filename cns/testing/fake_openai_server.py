"""A real HTTP, OpenAI-compatible fake server for tests, integration checks and offline evaluation.

Mocks of ``httpx`` would not exercise timeouts, connection reuse, headers or status handling;
this server does, using only the standard library (``ThreadingHTTPServer`` on ``127.0.0.1`` with
an ephemeral port, in a daemon thread)::

    with FakeOpenAIServer() as server:
        server.push("hello", FakeReply.error(503), FakeReply(content="late", delay=0.5))
        client = OpenAICompatibleLLM(server.base_url, "fake-model")
        ...
        assert server.requests[0].headers["authorization"] == "Bearer sk-test"

Replies come from the scripted queue first, then from ``responder(request)`` if given, then from
``default``; with none of them the server answers HTTP 400 saying the script ran out, so the
client fails at once (400 is not retried) with a message that names the cause.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeOpenAIServer", "FakeReply", "RecordedRequest", "Responder", "refused_url"]


def refused_url() -> str:
    """An endpoint where nothing listens (a port bound, then closed): connecting is refused at once,
    which is what a stopped local LLM server looks like."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@dataclass(frozen=True)
class FakeReply:
    """One scripted answer. ``content`` becomes ``choices[0].message.content`` of a 200 reply.

    ``body`` overrides the whole response body (a dict is sent as JSON, a str verbatim, e.g.
    malformed JSON); ``delay`` sleeps before answering (timeouts); ``disconnect`` closes the
    socket without answering (dropped connections).
    """

    content: str | None = ""
    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    disconnect: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"

    @classmethod
    def error(
        cls, status: int, message: str | None = None, *, retry_after: float | str | None = None
    ) -> FakeReply:
        """An OpenAI-style error body (``{"error": {"message": ...}}``), optionally with Retry-After."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        text = message or f"fake server error {status}"
        return cls(
            content=None,
            status=status,
            body={"error": {"message": text, "type": "fake_error"}},
            headers=headers,
        )


@dataclass(frozen=True)
class RecordedRequest:
    """What the server received; ``received_at`` is ``time.monotonic()`` (same clock as the tests)."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    raw: bytes
    received_at: float

    @property
    def json(self) -> Any:
        """The parsed JSON body (``None`` when the body is empty or not JSON)."""
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None

    @property
    def messages(self) -> list[dict[str, Any]]:
        body = self.json
        return list(body.get("messages", [])) if isinstance(body, dict) else []


Responder = Callable[[RecordedRequest], "FakeReply | str"]


def _completion_body(reply: FakeReply, request: RecordedRequest) -> dict[str, Any]:
    content = reply.content or ""
    body = request.json if isinstance(request.json, dict) else {}
    prompt_chars = len(json.dumps(body.get("messages", [])))
    return {
        "id": f"chatcmpl-fake-{int(request.received_at * 1e6)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens
            if reply.prompt_tokens is not None
            else max(1, prompt_chars // 4),
            "completion_tokens": (
                reply.completion_tokens if reply.completion_tokens is not None else max(1, len(content) // 4)
            ),
        },
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection pool is exercised
    timeout = 10  # an idle keep-alive connection must not pin a thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib access log (tests read ``server.requests`` instead)."""

    def do_GET(self) -> None:
        owner = self.server.owner
        with owner._lock:  # recorded, so tests can count probes as well as completions
            owner._requests.append(
                RecordedRequest(
                    "GET", self.path, {k.lower(): v for k, v in self.headers.items()}, b"", time.monotonic()
                )
            )
        if self.path.rstrip("/").endswith("/models"):
            models = [{"id": name, "object": "model"} for name in owner.models]
            self._send(200, {"object": "list", "data": models}, {})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}}, {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = RecordedRequest(
            method="POST",
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            raw=self.rfile.read(length) if length else b"",
            received_at=time.monotonic(),
        )
        owner = self.server.owner
        reply = owner._next_reply(request)
        if reply.delay > 0 and owner._closing.wait(reply.delay):
            return  # the server is shutting down: do not answer a test that is gone
        if reply.disconnect:
            self.close_connection = True
            return
        if not self.path.rstrip("/").endswith("/chat/completions") and reply.body is None:
            self._send(404, {"error": {"message": f"no route {self.path}"}}, {})
            return
        body = reply.body if reply.body is not None else _completion_body(reply, request)
        self._send(reply.status, body, reply.headers)

    def _send(self, status: int, body: dict[str, Any] | str, headers: dict[str, str]) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout test) makes writes fail; that is expected, not an error."""


class FakeOpenAIServer:
    """Scriptable OpenAI-compatible server; thread-safe; start/close or use ``with``."""

    def __init__(
        self,
        *,
        responder: Responder | None = None,
        default: FakeReply | str | None = None,
        models: tuple[str, ...] = ("fake-model",),
    ) -> None:
        self.models = models  # what GET /v1/models lists
        self._replies: deque[FakeReply] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.responder = responder
        self.default = default
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def push(self, *replies: FakeReply | str) -> FakeOpenAIServer:
        """Queue replies, answered in order; a ``str`` is the assistant's content of a 200 reply."""
        with self._lock:
            self._replies.extend(_as_reply(r) for r in replies)
        return self

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far (GET probes included), in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def completions(self) -> list[RecordedRequest]:
        """The chat-completion requests received so far (what a test counts as LLM calls)."""
        return [r for r in self.requests if r.method == "POST"]

    @property
    def pending(self) -> int:
        """Scripted replies not consumed yet (a test can assert its script was used up)."""
        with self._lock:
            return len(self._replies)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        if self._server is None:
            raise RuntimeError("FakeOpenAIServer is not running; call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        if self._server is None:
            self._closing.clear()
            self._server = _Server(("127.0.0.1", 0), _Handler)
            self._server.owner = self
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.02,), name="fake-openai", daemon=True
            )  # a short poll interval makes close() fast (the default 0.5 s would dominate test time)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; pending delayed replies are abandoned instead of awaited."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _next_reply(self, request: RecordedRequest) -> FakeReply:
        with self._lock:
            self._requests.append(request)
            scripted = self._replies.popleft() if self._replies else None
        if scripted is not None:
            return scripted
        if self.responder is not None:
            try:
                return _as_reply(self.responder(request))
            except Exception as exc:  # report the test's bug over HTTP; 400 is not retried, so it fails fast
                return FakeReply.error(400, f"FakeOpenAIServer responder raised {type(exc).__name__}: {exc}")
        if self.default is not None:
            return _as_reply(self.default)
        return FakeReply.error(400, "FakeOpenAIServer has no scripted reply left; push() more replies")


def _as_reply(reply: FakeReply | str) -> FakeReply:
    return reply if isinstance(reply, FakeReply) else FakeReply(content=reply)
