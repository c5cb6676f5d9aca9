"""The reference :class:`~cns.ports.VectorIndex`: exact inner-product search in NumPy.

It is the behaviour every other index (faiss flat / HNSW) must match in the contract tests, and
it is fast enough for populations of tens of thousands: one matrix product per batch of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from cns.errors import EmbeddingDimensionError, VectorIndexError
from cns.ports import FloatArray


class ExactVectorIndex:
    """Keeps vectors in one contiguous array; ids map to rows; removal swaps in the last row."""

    def __init__(self, dimension: int) -> None:
        if dimension <= 0:
            raise VectorIndexError(f"index dimension must be positive, got {dimension}")
        self._dim = dimension
        self._vectors = np.zeros((0, dimension), dtype=np.float32)
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}

    @property
    def dimension(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> list[str]:
        return list(self._ids)

    def _check(self, vectors: FloatArray) -> FloatArray:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[1] != self._dim:
            actual = arr.shape[-1] if arr.ndim else 0
            raise EmbeddingDimensionError.mismatch(expected=self._dim, actual=int(actual))
        return arr

    def add(self, ids: Sequence[str], vectors: FloatArray) -> None:
        arr = self._check(vectors)
        if len(ids) != arr.shape[0]:
            raise VectorIndexError(f"{len(ids)} ids but {arr.shape[0]} vectors")
        if len(set(ids)) != len(ids):
            raise VectorIndexError("duplicate ids in one add() call")
        self.remove([i for i in ids if i in self._rows])
        start = len(self._ids)
        self._vectors = np.vstack([self._vectors, arr]) if start else arr.copy()
        for offset, item_id in enumerate(ids):
            self._rows[item_id] = start + offset
            self._ids.append(item_id)

    def remove(self, ids: Iterable[str]) -> int:
        removed = 0
        for item_id in ids:
            row = self._rows.pop(item_id, None)
            if row is None:
                continue
            last = len(self._ids) - 1
            if row != last:
                moved = self._ids[last]
                self._vectors[row] = self._vectors[last]
                self._ids[row] = moved
                self._rows[moved] = row
            self._ids.pop()
            self._vectors = self._vectors[:last]
            removed += 1
        return removed

    def search(self, queries: FloatArray, k: int) -> list[list[tuple[str, float]]]:
        q = self._check(np.atleast_2d(queries))
        if not self._ids or k <= 0:
            return [[] for _ in range(q.shape[0])]
        k = min(k, len(self._ids))
        scores = q @ self._vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        results = []
        for row, candidates in enumerate(top):
            ordered = candidates[np.argsort(-scores[row, candidates], kind="stable")]
            results.append([(self._ids[c], float(scores[row, c])) for c in ordered])
        return results

    def get(self, item_id: str) -> FloatArray:
        row = self._rows.get(item_id)
        if row is None:
            raise VectorIndexError(f"id {item_id!r} is not in the index")
        vector: FloatArray = self._vectors[row].copy()
        return vector
