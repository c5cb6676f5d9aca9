"""An open-loop HTTP load generator on asyncio streams: requests leave on schedule, not on answers.

A closed-loop client (N threads, each waiting for its answer before the next request) slows
down with the server and hides the queueing it causes. Here request *i* is due at
``t0 + i / rate`` whatever happened before, and its latency is counted from that due time, so a
late send (no free connection, a busy client) is charged to the measurement, never hidden.

The client is deliberately cheap — hand-written HTTP/1.1 over keep-alive connections, a few
tens of microseconds of CPU per request — because on a 2-core machine it shares the cores with
the server it measures. Every request has a timeout and every run a bound on its length.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

REQUEST_TIMEOUT_SECONDS = 10.0


@dataclass
class StepResult:
    """What one offered rate gave: latencies of the 202s (ms, from due time) and errors by kind."""

    offered_rate: float
    requests: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall_seconds: float = 0.0
    max_send_lag_ms: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def achieved_rate(self) -> float:
        """Accepted requests per second, from the first due time to the last answer."""
        return self.ok / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-quantile (nearest rank) of the accepted requests' latencies; nan when none."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
        return ordered[rank - 1]


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _Connections:
    """Keep-alive connections to one server: reuse an idle one, open a new one up to ``limit``.

    A connection idle for longer than ``IDLE_REUSE_SECONDS`` is closed instead of reused: the
    server closes idle keep-alive connections after 5 s, and a request written into one it is
    closing fails without being the server's fault.
    """

    IDLE_REUSE_SECONDS = 2.0

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[tuple[Conn, float]] = []
        self.open = 0
        self.freed = asyncio.Condition()

    async def take(self) -> Conn:
        async with self.freed:
            while not self.idle and self.open >= self.limit:
                await self.freed.wait()
            while self.idle:
                conn, since = self.idle.pop()
                if time.monotonic() - since < self.IDLE_REUSE_SECONDS:
                    return conn
                conn[1].close()
                self.open -= 1
            self.open += 1
        try:
            return await asyncio.open_connection(self.host, self.port)
        except BaseException:
            await self.drop(None)
            raise

    async def give_back(self, conn: Conn) -> None:
        async with self.freed:
            self.idle.append((conn, time.monotonic()))
            self.freed.notify()

    async def drop(self, conn: Conn | None) -> None:
        if conn is not None:
            conn[1].close()
        async with self.freed:
            self.open -= 1
            self.freed.notify()

    def close_all(self) -> None:
        for (_, writer), _since in self.idle:
            writer.close()
        self.idle.clear()


def _request_bytes(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _exchange(conn: Conn, request: bytes) -> tuple[int, bool]:
    """Send one request, read one response; (status, server keeps the connection open)."""
    reader, writer = conn
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    normalised = {k.strip().lower(): v.strip().lower() for k, v in headers.items()}
    if "content-length" not in normalised:
        raise ValueError("response without Content-Length (the generator reads only those)")
    await reader.readexactly(int(normalised["content-length"]))
    return status, normalised.get("connection") != "close"


async def run_step(
    host: str,
    port: int,
    path: str,
    *,
    rate: float,
    seconds: float,
    body: Callable[[int], bytes],
    headers: dict[str, str] | None = None,
    expect: int = 202,
    max_connections: int = 512,
) -> StepResult:
    """Offer ``rate`` POSTs per second to ``path`` for ``seconds``; wait for every answer."""
    total = int(rate * seconds)
    result = StepResult(offered_rate=rate, requests=total)
    pool = _Connections(host, port, max_connections)
    finished: list[float] = []

    async def one(due: float, request: bytes) -> None:
        conn = None
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                conn = await pool.take()
                status, keep = await _exchange(conn, request)
            done = time.perf_counter()
            finished.append(done)
            if status == expect:
                result.latencies_ms.append((done - due) * 1000.0)
            else:
                result.errors[f"HTTP {status}"] += 1
            await (pool.give_back(conn) if keep else pool.drop(conn))
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
            result.errors[type(exc).__name__] += 1
            finished.append(time.perf_counter())
            await pool.drop(conn)

    tasks: list[asyncio.Task[None]] = []
    t0 = time.perf_counter() + 0.05
    for i in range(total):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        result.max_send_lag_ms = max(result.max_send_lag_ms, (time.perf_counter() - due) * 1000.0)
        tasks.append(asyncio.create_task(one(due, _request_bytes(host, port, path, body(i), headers or {}))))
    await asyncio.gather(*tasks)
    pool.close_all()
    result.wall_seconds = (max(finished) if finished else time.perf_counter()) - t0
    return result
