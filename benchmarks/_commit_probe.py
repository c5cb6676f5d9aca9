"""How long PostgreSQL takes to make one small commit durable, sampled beside the load.

An accepted submission is a durable commit (the job-table-first guarantee), so a stall of the
database's disk flush is a stall of every submission waiting on it. On a shared machine such
stalls come from other work's I/O, which no CPU figure shows; this probe, committing one row
every ``INTERVAL`` seconds on its own connection, makes them visible next to the latencies.
"""

from __future__ import annotations

import threading
import time

import psycopg

INTERVAL = 0.02


class CommitProbe:
    """A thread committing a row every ``INTERVAL`` s; ``window(t0, t1)`` gives the latencies."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url.replace("postgresql+psycopg://", "postgresql://")
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CommitProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY, at float8)"
            )
            while not self._stop.wait(INTERVAL):
                start = time.perf_counter()
                conn.execute("INSERT INTO bench_commit_probe (at) VALUES (%s)", (time.time(),))
                self.samples.append((time.time(), (time.perf_counter() - start) * 1000.0))

    def window(self, began: float, ended: float) -> list[float]:
        return sorted(ms for at, ms in list(self.samples) if began <= at <= ended)
