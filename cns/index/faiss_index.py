"""A :class:`~cns.ports.VectorIndex` on faiss: exact (``flat``) by default, ``hnsw`` for large populations.

String ids are mapped to int64 ids that faiss stores in an ``IndexIDMap2`` (which can also
reconstruct vectors by id). Scores are inner products, i.e. cosine similarity on the unit vectors
every CNS embedder returns.

Removal: ``IndexFlatIP`` supports ``remove_ids``; faiss's HNSW graph does not. For ``hnsw`` a
removed (or replaced) id is therefore *tombstoned* — forgotten by the id map, left in the graph
and filtered out of results (searches over-fetch by the number of tombstones) — and once the
tombstones exceed ``rebuild_ratio`` of the stored vectors the graph is rebuilt from the live
vectors, which bounds both the wasted memory and the over-fetch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

from cns.errors import ConfigError, EmbeddingDimensionError, VectorIndexError
from cns.ports import FloatArray


class IndexKind(StrEnum):
    FLAT = "flat"  # exact inner product; the default
    HNSW = "hnsw"  # approximate; sub-linear search for large populations


#: Searches with at most this many queries run on one OpenMP thread (see :func:`search_threads`).
SMALL_SEARCH_QUERIES = 8


@contextmanager
def search_threads(queries: int) -> Iterator[None]:
    """Run a small faiss search on one OpenMP thread, then restore the previous team size.

    Why: CNS searches one query at a time (the novelty critic of one SNO), yet faiss still fans
    small loops — e.g. ``IndexIDMap``'s translation of the k result labels — out to its OpenMP
    team, and waking that team on a busy host costs milliseconds. Measured for one query against
    100 vectors on 2 shared cores: median 0.37 ms and p90 11 ms with the default team of 2,
    0.18 ms and 0.22 ms with 1 thread. The cap is scoped, not process-wide, because faiss and
    torch share the OpenMP runtime: a process-wide cap would also make the NLI cross-encoder run
    on one thread. An explicit ``OMP_NUM_THREADS`` (an operator's choice) is left alone.
    """
    if queries > SMALL_SEARCH_QUERIES or os.environ.get("OMP_NUM_THREADS", "").strip():
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def parse_kind(kind: IndexKind | str) -> IndexKind:
    try:
        return IndexKind(str(kind).strip().lower())
    except ValueError:
        raise ConfigError.for_key(
            "index.kind", f"unknown index kind {kind!r}; use 'flat' or 'hnsw'"
        ) from None


class FaissVectorIndex:
    """Nearest-neighbour search over unit vectors with stable string ids (thread-safe)."""

    def __init__(
        self,
        dimension: int,
        kind: IndexKind | str = IndexKind.FLAT,
        *,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 256,
        rebuild_ratio: float = 0.2,
    ) -> None:
        if dimension <= 0:
            raise VectorIndexError(f"index dimension must be positive, got {dimension}")
        if hnsw_m < 2:
            raise ConfigError.for_key("index.hnsw_m", f"must be >= 2, got {hnsw_m}")
        self._dim = dimension
        self.kind = parse_kind(kind)
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.rebuild_ratio = rebuild_ratio
        self._lock = threading.RLock()
        self._index = self._new_faiss_index()
        self._to_int: dict[str, int] = {}
        self._to_str: dict[int, str] = {}
        self._tombstones: set[int] = set()
        self._next_id = 0

    # ------------------------------------------------------------------ port
    @property
    def dimension(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return len(self._to_int)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._to_int

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._to_int)

    def add(self, ids: Sequence[str], vectors: FloatArray) -> None:
        """Insert or replace: re-adding an id replaces its vector (idempotent under redelivery)."""
        arr = self._check(vectors)
        if len(ids) != arr.shape[0]:
            raise VectorIndexError(f"{len(ids)} ids but {arr.shape[0]} vectors")
        if len(set(ids)) != len(ids):
            raise VectorIndexError("duplicate ids in one add() call")
        if not ids:
            return
        with self._lock:
            self._remove_locked([i for i in ids if i in self._to_int])
            new = np.arange(self._next_id, self._next_id + len(ids), dtype=np.int64)
            self._next_id += len(ids)
            self._index.add_with_ids(np.ascontiguousarray(arr), new)
            for item_id, int_id in zip(ids, new.tolist(), strict=True):
                self._to_int[item_id] = int_id
                self._to_str[int_id] = item_id

    def remove(self, ids: Iterable[str]) -> int:
        with self._lock:
            return self._remove_locked(list(dict.fromkeys(ids)))

    def search(self, queries: FloatArray, k: int) -> list[list[tuple[str, float]]]:
        q = self._check(np.atleast_2d(queries))
        with self._lock:
            if not self._to_int or k <= 0:
                return [[] for _ in range(q.shape[0])]
            fetch = min(k + len(self._tombstones), int(self._index.ntotal))
            if self.kind is IndexKind.HNSW:
                self._hnsw().efSearch = max(self.ef_search, fetch)
            with search_threads(q.shape[0]):
                scores, labels = self._index.search(np.ascontiguousarray(q), fetch)
            results = []
            for row_scores, row_labels in zip(scores, labels, strict=True):
                hits = [
                    (self._to_str[int(label)], float(score))
                    for score, label in zip(row_scores, row_labels, strict=True)
                    if label >= 0 and int(label) in self._to_str
                ]
                results.append(hits[:k])
            return results

    def get(self, item_id: str) -> FloatArray:
        with self._lock:
            int_id = self._to_int.get(item_id)
            if int_id is None:
                raise VectorIndexError(f"id {item_id!r} is not in the index")
            vector: FloatArray = np.asarray(self._index.reconstruct(int_id), dtype=np.float32)
            return vector

    # ------------------------------------------------------------------ maintenance
    @property
    def tombstones(self) -> int:
        """Vectors still in the HNSW graph but no longer searchable (always 0 for flat)."""
        return len(self._tombstones)

    def rebuild(self) -> None:
        """Rebuild the faiss structure from the live vectors, dropping tombstones."""
        with self._lock:
            labels = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            if labels.size:
                vectors = self._index.index.reconstruct_n(0, labels.size)
                keep = np.array([int(label) in self._to_str for label in labels], dtype=bool)
                labels, vectors = labels[keep], vectors[keep]
            fresh = self._new_faiss_index()
            if labels.size:
                fresh.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), labels)
            self._index = fresh
            self._tombstones.clear()

    # ------------------------------------------------------------------ persistence support
    @property
    def faiss_index(self) -> Any:
        """The underlying ``faiss.IndexIDMap2`` (for :mod:`cns.index.persistence`)."""
        return self._index

    def id_state(self) -> dict[str, Any]:
        """The id map and tombstones: what the faiss file alone cannot store."""
        with self._lock:
            return {
                "ids": dict(self._to_int),
                "next_id": self._next_id,
                "tombstones": sorted(self._tombstones),
            }

    def restore(self, faiss_index: Any, state: dict[str, Any]) -> None:
        """Adopt a loaded faiss index and its id state; raise if they do not fit together."""
        if int(faiss_index.d) != self._dim:
            raise VectorIndexError(f"faiss index has dimension {faiss_index.d}, expected {self._dim}")
        ids = {str(k): int(v) for k, v in dict(state["ids"]).items()}
        tombstones = {int(t) for t in state.get("tombstones", [])}
        stored = set(faiss.vector_to_array(faiss_index.id_map).astype(np.int64).tolist())
        if stored != set(ids.values()) | tombstones:
            raise VectorIndexError("faiss index and id map disagree about which vectors are stored")
        with self._lock:
            self._index = faiss_index
            if self.kind is IndexKind.HNSW:  # later inserts use this index's build breadth
                self._hnsw().efConstruction = self.ef_construction
            self._to_int = ids
            self._to_str = {v: k for k, v in ids.items()}
            self._tombstones = tombstones
            self._next_id = max(int(state.get("next_id", 0)), max(stored, default=-1) + 1)

    # ------------------------------------------------------------------ internals
    def _new_faiss_index(self) -> Any:
        inner: Any
        if self.kind is IndexKind.FLAT:
            inner = faiss.IndexFlatIP(self._dim)
        else:
            inner = faiss.IndexHNSWFlat(self._dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = self.ef_construction
            inner.hnsw.efSearch = self.ef_search
        return faiss.IndexIDMap2(inner)

    def _hnsw(self) -> Any:
        inner: Any = faiss.downcast_index(self._index.index)
        return inner.hnsw

    def _check(self, vectors: FloatArray) -> NDArray[np.float32]:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[1] != self._dim:
            actual = arr.shape[-1] if arr.ndim else 0
            raise EmbeddingDimensionError.mismatch(expected=self._dim, actual=int(actual))
        return arr

    def _remove_locked(self, ids: list[str]) -> int:
        int_ids = [self._to_int.pop(i) for i in ids if i in self._to_int]
        for int_id in int_ids:
            del self._to_str[int_id]
        if not int_ids:
            return 0
        if self.kind is IndexKind.FLAT:
            self._index.remove_ids(np.asarray(int_ids, dtype=np.int64))
        else:
            self._tombstones.update(int_ids)
            if len(self._tombstones) > self.rebuild_ratio * max(int(self._index.ntotal), 1):
                self.rebuild()
        return len(int_ids)

    def __repr__(self) -> str:
        return f"FaissVectorIndex(dimension={self._dim}, kind={self.kind.value}, size={len(self)})"
