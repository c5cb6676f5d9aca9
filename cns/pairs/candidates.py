"""Candidate pairs from an inverted index over canonical evidence keys.

Only pairs that share at least one evidence key can have entanglement > 0 and pass the trigger,
so candidates come from evidence, not from embedding neighbours (which are the *least* chiral).
The intersection counts of all candidate pairs are one sparse product ``M · Mᵀ`` of the
SNO × key incidence matrix ``M`` — scipy's SpGEMM is C++, so no Python loop touches a pair.

Cost is ``Σ_k min(postings_k, cap)²`` over keys: keys held by more than ``cap`` SNOs (*stop
keys*) are left out of the product, which bounds the work per SNO by ``|E| · cap`` and makes the
search near-linear in N. Their contribution to each candidate's intersection is then added back
exactly from per-SNO bitsets, so Jaccard values stay exact; only pairs whose *sole* shared
evidence is stop keys are not found. The product runs in row blocks to bound peak memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
Int32Array = NDArray[np.int32]


@dataclass(frozen=True)
class Incidence:
    """SNO × key incidence in coordinate form; ``sizes[i] = |E_i|`` (distinct keys)."""

    rows: IntArray
    cols: IntArray
    n_rows: int
    n_keys: int
    sizes: IntArray

    @classmethod
    def from_flat(cls, flat: list[str], sizes: list[int]) -> Incidence:
        """Rows given as consecutive runs of ``flat`` of lengths ``sizes``; keys numbered first-seen.

        C-level ``dict.fromkeys`` and ``map`` lookups: about 0.3 s per million keys.
        """
        ids = dict.fromkeys(flat, 0)
        for number, key in enumerate(ids):
            ids[key] = number
        size_arr = np.asarray(sizes, dtype=np.int64)
        cols = np.fromiter(map(ids.__getitem__, flat), dtype=np.int64, count=len(flat))
        rows = np.repeat(np.arange(len(sizes), dtype=np.int64), size_arr)
        return cls(rows, cols, len(sizes), len(ids), size_arr)


@dataclass(frozen=True)
class Candidates:
    """Row-index pairs ``a < b`` with a number of shared keys (int32: halves memory traffic)."""

    a: Int32Array
    b: Int32Array
    shared: Int32Array

    def __len__(self) -> int:
        return int(self.a.shape[0])

    def take(self, mask: NDArray[np.bool_]) -> Candidates:
        return Candidates(self.a[mask], self.b[mask], self.shared[mask])


@dataclass(frozen=True)
class StopKeys:
    """Keys not expanded into pairs, as per-row bitsets for exact counting on demand.

    ``bits`` is word-major ``(words, n_rows)``: counting one word for many pairs is then two
    contiguous 1-D gathers, about twice as fast as gathering whole rows.
    """

    count: int
    postings: int
    bits: NDArray[np.uint64]

    def shared(self, a: Int32Array, b: Int32Array) -> Int32Array:
        """Exact number of stop keys rows ``a[i]`` and ``b[i]`` share (popcount of bitset AND)."""
        out = np.zeros(a.shape[0], dtype=np.int32)
        for word in self.bits:
            out += np.bitwise_count(np.take(word, a) & np.take(word, b))
        return out


def _stop_keys(inc: Incidence, keep_rows: NDArray[np.bool_], is_stop: NDArray[np.bool_]) -> StopKeys:
    stop_ids = np.flatnonzero(is_stop)
    if stop_ids.size == 0:
        return StopKeys(0, 0, np.zeros((0, inc.n_rows), dtype=np.uint64))
    remap = np.full(inc.n_keys, -1, dtype=np.int64)
    remap[stop_ids] = np.arange(stop_ids.size)
    sel = keep_rows[inc.rows] & is_stop[inc.cols]
    rows, bit = inc.rows[sel], remap[inc.cols[sel]]
    bits = np.zeros(((stop_ids.size + 63) // 64, inc.n_rows), dtype=np.uint64)
    np.bitwise_or.at(bits, (bit // 64, rows), np.left_shift(np.uint64(1), (bit % 64).astype(np.uint64)))
    return StopKeys(int(stop_ids.size), int(rows.size), bits)


class CandidateIndex:
    """The evidence index of one population: yields candidate pairs block by block.

    Row blocks keep every temporary array small enough for the CPU cache and bound peak memory
    (``block_rows × N`` sparse product at a time); each block computes full rows of ``M · Mᵀ`` and
    keeps ``b > a``, so every unordered pair appears once, in the block of its smaller row.
    """

    def __init__(self, inc: Incidence, *, keep_rows: NDArray[np.bool_], stop_key_max_postings: int) -> None:
        # imported here, not at the top: the API, the workers and the CLI import pair search on
        # paths that never run one, and scipy.sparse costs each process a few tenths of a second
        import scipy.sparse as sp

        sel = keep_rows[inc.rows]
        rows, cols = inc.rows[sel], inc.cols[sel]
        postings = np.bincount(cols, minlength=inc.n_keys)
        is_stop = postings > stop_key_max_postings
        self.stop = _stop_keys(inc, keep_rows, is_stop)
        expand = ~is_stop[cols] & (postings[cols] >= 2)  # a key held by one SNO pairs nothing
        self.n_rows = inc.n_rows
        self.matrix = sp.csr_matrix(
            (np.ones(int(expand.sum()), dtype=np.int32), (rows[expand], cols[expand])),
            shape=(inc.n_rows, inc.n_keys),
        )
        self.transposed = self.matrix.T.tocsr()

    def blocks(self, block_rows: int = 8192) -> Iterator[Candidates]:
        """Candidate pairs (``a < b``, sharing a non-stop key) with their **exact** shared count."""
        for start in range(0, self.n_rows, block_rows):
            part = self.matrix[start : start + block_rows]
            if part.nnz == 0:
                continue
            product = (part @ self.transposed).tocsr()
            owner = np.repeat(
                np.arange(start, start + part.shape[0], dtype=np.int32), np.diff(product.indptr)
            )
            upper = product.indices > owner
            a, b = owner[upper], product.indices[upper].astype(np.int32)
            shared = product.data[upper].astype(np.int32) + self.stop.shared(a, b)
            yield Candidates(a, b, shared)
