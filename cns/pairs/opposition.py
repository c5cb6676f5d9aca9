"""Optional opposition search for narratives that share *no* evidence (spec §13 G1/G2).

Two narratives can disagree on a topic without citing a common source; the evidence index never
pairs them. Here each eligible SNO's ``k`` nearest topic neighbours (exact inner-product search
on the hypothesis embeddings) become candidates, and only those get an NLI opposition score —
topic similarity finds *what* to compare, NLI decides *whether they disagree*.

Such pairs have ``E = 0`` and hence potential 0; they are returned with ``source="opposition"``
after the entangled pairs, ranked by chirality. The neighbour search is ``O(N² d)`` (one matrix
product), so it is off by default; enable it for populations up to a few ten thousand SNOs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.index.memory import ExactVectorIndex
from cns.metrics import chirality_batch
from cns.pairs.scoring import candidate_opposition, opposition_upper_bound
from cns.pairs.types import ChiralPair, PairSearchOptions, PairSearchStats
from cns.ports import Embedder, NLIModel

_QUERY_BATCH = 1024


def _neighbour_pairs(rows: list[int], vectors: NDArray[np.float32], k: int) -> list[tuple[int, int]]:
    """Unordered row pairs ``(i, j)``, ``j`` among the ``k`` nearest neighbours of ``i``.

    Queries go in batches so the score matrix stays ``batch × N`` instead of ``N × N``.
    """
    index = ExactVectorIndex(int(vectors.shape[1]))
    index.add([str(i) for i in rows], vectors)
    found: set[tuple[int, int]] = set()
    for start in range(0, len(rows), _QUERY_BATCH):
        hits = index.search(vectors[start : start + _QUERY_BATCH], k + 1)
        for i, row_hits in zip(rows[start : start + _QUERY_BATCH], hits, strict=True):
            for other, _score in row_hits:
                j = int(other)
                if j != i:
                    found.add((min(i, j), max(i, j)))
    return sorted(found)


def opposition_pairs(
    snos: list[StructuredNarrativeObject],
    t: NDArray[np.float64],
    *,
    config: CNSConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
    opts: PairSearchOptions,
    stats: PairSearchStats,
) -> list[ChiralPair]:
    """Opposed neighbour pairs without shared evidence, ``C ≥ θ_C``, strongest first."""
    theta = config.synthesis_thresholds.chirality
    omax = opposition_upper_bound(config.chirality)
    t0 = np.where(np.isnan(t), 0.0, t)
    embedded = [(i, s.hypothesis_embedding) for i, s in enumerate(snos) if s.hypothesis_embedding is not None]
    chosen = [(i, v) for i, v in embedded if not np.isnan(t[i])]
    if len(chosen) < 2:
        return []
    rows = [i for i, _ in chosen]
    vectors = np.stack([v for _, v in chosen]).astype(np.float32)
    pairs = [
        (i, j)
        for i, j in _neighbour_pairs(rows, vectors, opts.opposition_neighbours)
        if not (snos[i].source_keys & snos[j].source_keys) and omax * t0[i] * t0[j] >= theta
    ]
    stats.opposition_candidates = len(pairs)
    if not pairs:
        return []
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    opp, calls = candidate_opposition(snos, a, b, config=config.chirality, nli=nli, embedder=embedder)
    stats.nli_pairs += calls
    chir = chirality_batch(opp, t0[a], t0[b])
    out = []
    for i, j, c, o in zip(a.tolist(), b.tolist(), chir.tolist(), opp.tolist(), strict=True):
        if c >= theta:
            x, y = (snos[i], snos[j]) if snos[i].sno_id <= snos[j].sno_id else (snos[j], snos[i])
            out.append(ChiralPair(x, y, c, 0.0, 0.0, frozenset(), opposition=o, source="opposition"))
    out.sort(key=lambda p: (-p.chirality, *p.key))
    return out
