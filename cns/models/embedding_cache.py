"""A persistent embedding cache keyed by (model, version, sha256 of the text).

Re-embedding unchanged text then costs a SQLite lookup instead of a model forward pass, which is
what makes re-running ``cns run`` on an unchanged corpus fast. The cache is a single SQLite file
under ``data_dir`` (WAL mode, safe for several processes); vectors are stored as raw float32.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cns.core.ids import sha256_hex
from cns.ports import Embedder, FloatArray

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, text_sha256)
)
"""
_CHUNK = 500  # SQLite's default limit on host parameters is 999


class CachedEmbedder:
    """Wraps any :class:`~cns.ports.Embedder`; only texts not seen before reach the model."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)
        self._conn.commit()
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def version(self) -> str:
        return self.inner.version

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def _model_key(self) -> str:
        return f"{self.inner.name}@{self.inner.version}"

    def _lookup(self, hashes: list[str]) -> dict[str, FloatArray]:
        found: dict[str, FloatArray] = {}
        for start in range(0, len(hashes), _CHUNK):
            chunk = hashes[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT text_sha256, vector FROM embeddings WHERE model = ? AND text_sha256 IN ({marks})",
                [self._model_key, *chunk],
            ).fetchall()
            for digest, blob in rows:
                found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def encode(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return self.inner.encode(texts)
        hashes = [sha256_hex(t) for t in texts]
        with self._lock:
            cached = self._lookup(sorted(set(hashes)))
        missing = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in cached}.items())
        if missing:
            vectors = self.inner.encode([t for _, t in missing])
            rows = [
                (self._model_key, h, np.asarray(v, dtype=np.float32).tobytes())
                for (h, _), v in zip(missing, vectors, strict=True)
            ]
            with self._lock:
                self._conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
                self._conn.commit()
            for (digest, _), vector in zip(missing, vectors, strict=True):
                cached[digest] = np.asarray(vector, dtype=np.float32)
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        return np.stack([cached[h] for h in hashes]).astype(np.float32)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
