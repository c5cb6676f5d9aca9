"""A tiny persistent key → float32-vector store in SQLite, shared by the embedding and NLI caches.

One table per cache, rows keyed by (model identity, sha256 digest); WAL mode so several
processes can share the file; lookups are chunked below SQLite's host-parameter limit.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cns.ports import FloatArray

_CHUNK = 500  # SQLite's default limit on host parameters is 999


class BlobCache:
    """Thread-safe get/put of float32 vectors by ``(model, digest)`` in table ``table``."""

    def __init__(self, path: Path, table: str) -> None:
        if not table.isidentifier():
            raise ValueError(f"invalid cache table name {table!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.table = table
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (model TEXT NOT NULL, digest TEXT NOT NULL, "
            "vector BLOB NOT NULL, PRIMARY KEY (model, digest))"
        )
        self._conn.commit()

    def get_many(self, model: str, digests: Iterable[str]) -> dict[str, FloatArray]:
        wanted = sorted(set(digests))
        found: dict[str, FloatArray] = {}
        with self._lock:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT digest, vector FROM {self.table} WHERE model = ? AND digest IN ({marks})",
                    [model, *chunk],
                ).fetchall()
                found.update((digest, np.frombuffer(blob, dtype=np.float32)) for digest, blob in rows)
        return found

    def put_many(self, model: str, items: Iterable[tuple[str, FloatArray]]) -> None:
        rows = [(model, digest, np.asarray(vector, dtype=np.float32).tobytes()) for digest, vector in items]
        with self._lock:
            self._conn.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?, ?)", rows)
            self._conn.commit()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
