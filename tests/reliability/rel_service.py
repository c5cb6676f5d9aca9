"""Helpers of the subprocess reliability tests, on top of ``tests/service/service_harness.py``.

The harness starts real uvicorn, Celery workers, Redis (DB 13) and a temporary PostgreSQL
database; these helpers add what the fault tests need: a store opened on the stack's database
(the oracle), the broker's queue and ``unacked`` counts, raw-socket HTTP for body-size faults.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis

from cns.store.sql import SQLStore
from tests.service.service_harness import Stack, parse_json_lines, wait_until

QUEUE = "cns"


@contextmanager
def stack_store(stack: Stack) -> Iterator[SQLStore]:
    """The stack's database, opened by the test (read the truth, not the API's view of it)."""
    store = SQLStore.open(stack.env["CNS_DATABASE_URL"])
    try:
        yield store
    finally:
        store.close()


def broker_counts(broker_url: str) -> tuple[int, int]:
    """(messages waiting in the ``cns`` queue, messages reserved but not acked) on ``broker_url``."""
    client = redis.Redis.from_url(broker_url, socket_timeout=5)
    try:
        return int(client.llen(QUEUE)), int(client.hlen("unacked"))
    finally:
        client.close()


def task_state(stack: Stack, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{stack.api_url}/tasks/{job_id}", timeout=5).json()
    return body


def wait_terminal(stack: Stack, job_ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}

    def done() -> bool:
        for job_id in job_ids:
            if states.get(job_id, {}).get("state") not in ("SUCCESS", "FAILURE"):
                states[job_id] = task_state(stack, job_id)
        return all(s["state"] in ("SUCCESS", "FAILURE") for s in states.values())

    wait_until(done, timeout, f"{len(job_ids)} jobs to finish", interval=0.3)
    return states


@dataclass
class RawResult:
    """What a raw-socket upload observed."""

    status: int
    body: bytes
    sent: int
    seconds: float
    closed: str  # "fin" (orderly close), "rst" (reset: the server dropped unread bytes) or "open"


def _address(api_url: str) -> tuple[str, int]:
    parts = urlsplit(api_url)
    return parts.hostname or "127.0.0.1", int(parts.port or 80)


def _read_response(sock: socket.socket, deadline: float) -> tuple[int, bytes, str]:
    """Status, body and how the server ended the connection after answering."""
    data = b""
    closed = "open"
    answered_at: float | None = None
    while time.monotonic() < deadline:
        if answered_at is None and _complete(data):
            answered_at = time.monotonic()
            deadline = min(deadline, answered_at + 2.0)  # then wait briefly for the server's close
        ready, _, _ = select.select([sock], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            closed = "rst"
            break
        except TimeoutError:
            break
        if not chunk:
            closed = "fin"
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body, closed


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False


def upload(api_url: str, headers: dict[str, str], body: Iterator[bytes], *, pause: float = 0.0) -> RawResult:
    """POST /ingest over a raw socket, sending ``body`` piece by piece until the server answers.

    The answer is checked before every piece, so an early 413 is seen as soon as it is sent;
    ``sent`` counts body bytes handed to the kernel before the answer (or the reset) arrived.
    """
    host, port = _address(api_url)
    sock = socket.create_connection((host, port), timeout=5)
    start = time.monotonic()
    sent = 0
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": host, **headers}.items())
        sock.sendall(f"POST /ingest HTTP/1.1\r\n{head}\r\n".encode("latin-1"))
        for piece in body:
            ready, _, _ = select.select([sock], [], [], 0)
            if ready:
                break
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(piece)
            if pause:
                time.sleep(pause)
        status, answer, closed = _read_response(sock, time.monotonic() + 10)
        return RawResult(status, answer, sent, time.monotonic() - start, closed)
    finally:
        sock.close()


def structured_log_problems(lines: dict[str, list[str]], *, document_text: str) -> list[str]:
    """R24: every line is JSON with timestamp/level/event, job events name their job and task,
    API access lines carry a request id, and no line holds more of the document than a preview."""
    problems: list[str] = []
    for name, found in lines.items():
        for line in found:
            if document_text[:100] in line:
                problems.append(f"{name}: document text in log: {line[:120]}")
        for event in parse_json_lines(found):
            if not all(event.get(k) for k in ("timestamp", "level", "event")):
                problems.append(f"{name}: missing timestamp/level/event: {event}")
            kind = str(event.get("event", ""))
            worker_job_event = kind.startswith("job.") and kind != "job.created" and name != "api"
            if worker_job_event and not (event.get("job_id") and event.get("task_id")):
                problems.append(f"{name}: job event without ids: {event}")
            if kind == "http.request" and not event.get("request_id"):
                problems.append(f"{name}: access line without request_id: {event}")
    return problems


def submit_with_key(stack: Stack, key: str, text: str) -> str:
    """POST with an Idempotency-Key, retrying 503s (a retry with the key never duplicates)."""
    answers: list[httpx.Response] = []

    def accepted() -> bool:
        answers.append(
            httpx.post(
                f"{stack.api_url}/ingest",
                json={"source": f"{key}.txt", "text": text},
                headers={"Idempotency-Key": key},
                timeout=10,
            )
        )
        return answers[-1].status_code == 202

    wait_until(accepted, 20, "the API to accept a job", interval=0.5)
    return str(answers[-1].json()["job_id"])


def submit_and_wait_started(stack: Stack, document: dict[str, str], timeout: float = 60.0) -> str:
    """POST ``document`` and return its job id once a worker has started it (to kill it mid-task)."""
    job_id = str(httpx.post(f"{stack.api_url}/ingest", json=document, timeout=10).json()["job_id"])
    wait_until(lambda: task_state(stack, job_id)["state"] == "STARTED", timeout, "the job to start")
    return job_id
