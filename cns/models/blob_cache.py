"""A tiny persistent key → float32-vector store in SQLite, shared by the embedding and NLI caches.

One table per cache, rows keyed by (model identity, sha256 digest); WAL mode so several
processes can share the file; lookups are chunked below SQLite's host-parameter limit.

A cache only saves time, so it never fails the work it serves. When its file cannot be created,
read or written — a full data dir (``database or disk is full``), a read-only or broken file
system — it degrades: a lookup that fails misses, a write that fails is dropped. The first
failure logs one warning (``cache.open_failed``, ``cache.read_failed`` or ``cache.write_failed``,
naming the file and the reason); further failures of the same kind stay quiet, and the cache
tries again every ``RETRY_SECONDS`` (``cache.restored`` once it works). Readiness reports the
full disk itself (:mod:`cns.services.disk_space`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cns.logging_setup import get_logger
from cns.ports import FloatArray

log = get_logger(__name__)

_CHUNK = 500  # SQLite's default limit on host parameters is 999
#: After a failure, the cache is left alone (no cache) this long before it is tried again.
RETRY_SECONDS = 60.0
_FAILURES = (sqlite3.Error, OSError)


class BlobCache:
    """Thread-safe get/put of float32 vectors by ``(model, digest)`` in table ``table``."""

    def __init__(self, path: Path, table: str) -> None:
        if not table.isidentifier():
            raise ValueError(f"invalid cache table name {table!r}")
        self.path = path
        self.table = table
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        #: operation ("open", "read", "write") → monotonic time before which it is not tried again
        self._paused: dict[str, float] = {}
        self._warned: set[str] = set()
        with self._lock:
            self._connection()

    @property
    def degraded(self) -> bool:
        """Whether some operation is currently skipped after a failure."""
        now = time.monotonic()
        return any(until > now for until in self._paused.values())

    def get_many(self, model: str, digests: Iterable[str]) -> dict[str, FloatArray]:
        wanted = sorted(set(digests))
        found: dict[str, FloatArray] = {}
        with self._lock:
            conn = self._connection()
            if conn is None or self._is_paused("read"):
                return found
            try:
                for start in range(0, len(wanted), _CHUNK):
                    chunk = wanted[start : start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = conn.execute(
                        f"SELECT digest, vector FROM {self.table} WHERE model = ? AND digest IN ({marks})",
                        [model, *chunk],
                    ).fetchall()
                    found.update((digest, np.frombuffer(blob, dtype=np.float32)) for digest, blob in rows)
            except _FAILURES as exc:
                self._failed("read", exc)
                return {}
            self._worked("read")
        return found

    def put_many(self, model: str, items: Iterable[tuple[str, FloatArray]]) -> None:
        rows = [(model, digest, np.asarray(vector, dtype=np.float32).tobytes()) for digest, vector in items]
        with self._lock:
            conn = self._connection()
            if conn is None or self._is_paused("write"):
                return
            try:
                conn.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?, ?)", rows)
                conn.commit()
            except _FAILURES as exc:
                self._rollback(conn)
                self._failed("write", exc)
                return
            self._worked("write")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ------------------------------------------------------------------ degrade and recover
    def _connection(self) -> sqlite3.Connection | None:
        """The open connection, opening it if needed; None while the file cannot be opened."""
        if self._conn is not None:
            return self._conn
        if self._is_paused("open"):
            return None
        conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (model TEXT NOT NULL, digest TEXT NOT NULL, "
                "vector BLOB NOT NULL, PRIMARY KEY (model, digest))"
            )
            conn.commit()
        except _FAILURES as exc:
            if conn is not None:
                conn.close()
            self._failed("open", exc)
            return None
        self._worked("open")
        self._conn = conn
        return conn

    def _is_paused(self, operation: str) -> bool:
        return self._paused.get(operation, 0.0) > time.monotonic()

    def _failed(self, operation: str, exc: BaseException) -> None:
        self._paused[operation] = time.monotonic() + RETRY_SECONDS
        if operation in self._warned:
            return
        self._warned.add(operation)
        event = {"open": "cache.open_failed", "read": "cache.read_failed"}.get(
            operation, "cache.write_failed"
        )
        log.warning(
            event, path=str(self.path), table=self.table, error=type(exc).__name__,
            reason=str(exc)[:200], retry_seconds=RETRY_SECONDS,
            consequence="the work goes on without this cache",
        )  # fmt: skip

    def _worked(self, operation: str) -> None:
        if operation in self._warned:
            self._warned.discard(operation)
            self._paused.pop(operation, None)
            log.info("cache.restored", path=str(self.path), table=self.table, operation=operation)

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        with contextlib.suppress(*_FAILURES):
            conn.rollback()
