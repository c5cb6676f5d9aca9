"""Topic-neighbour search: opposed narratives that share *no* evidence.

Two documents can take opposite sides of one question without citing a common source (opinion
pieces, debate speeches, documents whose references were stripped); the evidence index never
pairs them. Here each eligible SNO's ``k`` nearest topic neighbours (exact inner-product search
on the hypothesis embeddings, ``pair_search.topic_neighbours``) become candidates, and only those
get an opposition score — topic similarity finds *what* to compare, the opposition score (with
its topic gate) decides *whether they disagree*.

Such pairs have ``E = 0`` and hence potential 0; they are returned with ``source="opposition"``
after the entangled pairs, ranked by chirality. The neighbour search is ``O(N² d)`` (one matrix
product per query batch), so above ``pair_search.topic_max_population`` trusted narratives it is
skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import structlog
from numpy.typing import NDArray

from cns.config.settings import ChiralityMethod, CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.index.memory import ExactVectorIndex
from cns.metrics import chirality_batch
from cns.pairs.progress import StepCounter, judge_candidates, opposition_judge
from cns.pairs.scoring import opposition_upper_bound
from cns.pairs.types import ChiralPair, PairSearchStats
from cns.ports import Embedder, NLIModel

_QUERY_BATCH = 1024
log = structlog.get_logger(__name__)


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
    load_nli: Callable[[], NLIModel],
    embedder: Embedder | None,
    stats: PairSearchStats,
    neighbours: int,
    counter: StepCounter | None = None,
) -> tuple[list[ChiralPair], list[tuple[int, int, float, float]], NLIModel | None]:
    """Opposed neighbour pairs without shared evidence (``O ≥ θ_O``, ``C ≥ θ_C``), strongest first,
    every judged ``(row a, row b, opposition, relevance)`` for the side check, and the NLI model (loaded with
    ``load_nli`` only when there is a candidate to judge and the method needs one)."""
    theta = config.synthesis_thresholds.chirality
    theta_o = config.synthesis_thresholds.opposition
    omax = opposition_upper_bound(config.chirality)
    t0 = np.where(np.isnan(t), 0.0, t)
    embedded = [(i, s.hypothesis_embedding) for i, s in enumerate(snos) if s.hypothesis_embedding is not None]
    chosen = [(i, v) for i, v in embedded if not np.isnan(t[i])]
    if len(chosen) < 2:
        return [], [], nli
    if len(chosen) > config.pair_search.topic_max_population:
        log.warning(
            "pairs.topic_search_skipped",
            trusted=len(chosen),
            limit=config.pair_search.topic_max_population,
            reason="population above pair_search.topic_max_population; only pairs that share evidence",
        )
        return [], [], nli
    rows = [i for i, _ in chosen]
    vectors = np.stack([v for _, v in chosen]).astype(np.float32)
    pairs = [
        (i, j)
        for i, j in _neighbour_pairs(rows, vectors, neighbours)
        if not (snos[i].source_keys & snos[j].source_keys) and omax * t0[i] * t0[j] >= theta
    ]
    stats.opposition_candidates = len(pairs)
    if not pairs:
        return [], [], nli
    if nli is None and config.chirality.method is not ChiralityMethod.EMBEDDING:
        nli = load_nli()
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    if counter is not None:
        counter.start(len(pairs))
    judge = opposition_judge(snos, config=config.chirality, nli=nli, embedder=embedder)
    opp, calls, relevance = judge_candidates(a, b, judge, counter)
    stats.nli_pairs += calls
    chir = chirality_batch(opp, t0[a], t0[b])
    out = []
    judged = list(zip(a.tolist(), b.tolist(), opp.tolist(), relevance.tolist(), strict=True))
    for i, j, c, o, r in zip(
        a.tolist(), b.tolist(), chir.tolist(), opp.tolist(), relevance.tolist(), strict=True
    ):
        if c >= theta and o >= theta_o and r > 0:  # r = 0: neighbours by chance, not one question
            x, y = (snos[i], snos[j]) if snos[i].sno_id <= snos[j].sno_id else (snos[j], snos[i])
            out.append(ChiralPair(x, y, c, 0.0, 0.0, frozenset(), opposition=o, source="opposition"))
    out.sort(key=lambda p: (-p.chirality, *p.key))
    return out, judged, nli
