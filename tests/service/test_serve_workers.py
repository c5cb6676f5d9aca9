"""``cns serve --workers N`` on real Redis and PostgreSQL: several processes, one set of guarantees.

The processes share nothing in memory, so everything a guarantee rests on must live in
PostgreSQL or Redis. The kernel hands each new connection to one of the worker processes and a
keep-alive connection stays with it, so the tests open connections until two processes hold
some, learn which process serves which connection, and send to both on purpose:

* every POST /ingest is accepted (202), recorded in the job table and published to the queue;
* one ``Idempotency-Key`` sent to both processes at once makes exactly one job;
* the rate limit is one bucket per client for the whole server: per-process buckets would let
  twice the burst through.
"""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil
import pytest
import redis

from cns.store.sql import SQLStore
from cns.worker.celery_app import QUEUE
from tests.service.service_harness import REDIS_URL, Stack, service_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MAX_CONNECTIONS = 64


def request(sock: socket.socket, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
    """One HTTP/1.1 request on a keep-alive connection; (status, parsed JSON body)."""
    data = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    head += "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    sock.sendall((head + f"Content-Length: {len(data)}\r\n\r\n").encode() + data)
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(65536) or b"<closed>"
        assert not raw.endswith(b"<closed>"), raw
    header, rest = raw.split(b"\r\n\r\n", 1)
    lines = header.decode("latin-1").split("\r\n")
    length = next(
        int(v) for k, _, v in (ln.partition(": ") for ln in lines[1:]) if k.lower() == "content-length"
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(lines[0].split(" ")[1]), json.loads(rest) if rest else None


def _owner(stack: Stack, sock: socket.socket) -> int | None:
    """The worker process holding the server side of ``sock``."""
    client_port = sock.getsockname()[1]
    for child in psutil.Process(stack.procs["api"].pid).children(recursive=True):
        try:
            if any(c.raddr and c.raddr.port == client_port for c in child.net_connections(kind="tcp")):
                return child.pid
        except psutil.NoSuchProcess:
            continue
    return None


@contextmanager
def two_processes(stack: Stack) -> Iterator[list[list[socket.socket]]]:
    """Keep-alive connections of two worker processes: [[conns of A], [conns of B]]."""
    url = urlparse(stack.api_url)
    by_process: dict[int, list[socket.socket]] = {}
    opened: list[socket.socket] = []
    try:
        while len(opened) < MAX_CONNECTIONS and sum(len(v) >= 2 for v in by_process.values()) < 2:
            sock = socket.create_connection((url.hostname, url.port), timeout=20)
            opened.append(sock)
            assert request(sock, "GET", "/healthz")[0] == 200  # accepted and served: the owner holds it
            owner = _owner(stack, sock)
            if owner is not None:
                by_process.setdefault(owner, []).append(sock)
        both = [conns for conns in by_process.values() if len(conns) >= 2][:2]
        assert len(both) == 2, f"{len(opened)} connections all went to {len(by_process)} process(es)"
        yield both
    finally:
        for sock in opened:
            sock.close()


def test_two_workers_accept_record_and_publish_every_document(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_api(workers=2)
        with two_processes(stack) as (a, b):
            conns = a[:2] + b[:2]

            def post_on(k: int) -> list[tuple[int, Any]]:
                return [
                    request(conns[k], "POST", "/ingest", {"source": f"w{k}-{i}.txt", "text": f"Text {k} {i}. Plates move."})
                    for i in range(10)
                ]  # fmt: skip

            with ThreadPoolExecutor(len(conns)) as pool:
                answers = [a for batch in pool.map(post_on, range(len(conns))) for a in batch]
        assert [status for status, _ in answers] == [202] * 40, answers
        job_ids = {body["job_id"] for _, body in answers}
        assert len(job_ids) == 40
        with SQLStore.open(stack.env["CNS_DATABASE_URL"]) as store:
            assert {j.job_id for j in store.list_jobs()} == job_ids
            assert store.reads.counts()["documents"] == 40
        assert redis.Redis.from_url(REDIS_URL).llen(QUEUE) == 40  # no Celery worker: all still queued


def test_one_idempotency_key_sent_to_both_workers_makes_one_job(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_api(workers=2)
        body = {"source": "same.txt", "text": "The same request. It is sent many times at once."}
        with two_processes(stack) as (a, b):
            conns = a[:2] + b[:2]
            with ThreadPoolExecutor(len(conns)) as pool:
                answers = list(
                    pool.map(lambda s: request(s, "POST", "/ingest", body, Idempotency_Key="k-1"), conns)
                )
        assert [status for status, _ in answers] == [202] * 4
        assert len({answer["job_id"] for _, answer in answers}) == 1
        assert sum(answer["created"] for _, answer in answers) == 1
        with SQLStore.open(stack.env["CNS_DATABASE_URL"]) as store:
            assert len(store.list_jobs()) == 1


def test_the_rate_limit_is_one_bucket_for_all_worker_processes(tmp_path: Path) -> None:
    # 60 per minute: a burst of 10, then one more per second, whichever process serves the request
    with service_stack(tmp_path, CNS_SERVICE__RATE_LIMIT_PER_MINUTE="60") as stack:
        stack.start_api(workers=2)
        with two_processes(stack) as (a, b):
            start = time.monotonic()
            statuses = [request(a[0], "GET", "/snos")[0] for _ in range(10)]
            statuses += [request(b[0], "GET", "/snos")[0] for _ in range(10)]
            elapsed = time.monotonic() - start
    assert set(statuses) <= {200, 429}
    # a bucket per process would have let all 20 through (10 to each process)
    assert 10 <= statuses.count(200) <= 10 + math.ceil(elapsed) + 1, (statuses, elapsed)
    assert statuses[-1] == 429
