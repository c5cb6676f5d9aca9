"""Best-first exact scoring of candidate pairs under an upper bound (the model-calling step).

``P = sqrt(C · E) · (1 + 0.2 (1 − |C − E|)) ≤ 1.2 · sqrt(C · E)`` and ``C ≤ opp_max · T_a · T_b``,
so ``bound = opp_max · T_a · T_b · E`` orders candidates by the best potential they could reach.
Scoring them in that order, batch by batch, can stop as soon as the next bound cannot beat the
current ``max_pairs``-th potential — the result is then exactly the brute-force result while the
model sees only a few batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.metrics import chirality_batch, synthesis_potential
from cns.pairs.candidates import Candidates
from cns.pairs.progress import StepCounter, judge_candidates, opposition_judge
from cns.pairs.scoring import PairMatches
from cns.pairs.types import PairSearchOptions, PairSearchStats
from cns.ports import Embedder, NLIModel

FloatArray = NDArray[np.float64]
POTENTIAL_BONUS_MAX = 1.2  # max of (1 + 0.2 (1 − |C − E|)) in synthesis_potential
EPS = 1e-12


@dataclass
class ScoredPairs:
    a: list[int]
    b: list[int]
    chirality: list[float]
    entanglement: list[float]
    potential: list[float]
    opposition: list[float]
    #: every judged candidate ``(row a, row b, opposition, relevance)``, qualifying or not (the
    #: side check needs the agreeing pairs too)
    judged: list[tuple[int, int, float, float]] = field(default_factory=list)
    #: ``(chirality, entanglement, potential)`` of each entry of ``judged`` (near misses, ``cns why``)
    judged_scores: list[tuple[float, float, float]] = field(default_factory=list)


def best_first_order(cand: Candidates, bound: FloatArray, limit: int) -> NDArray[np.int64]:
    """Indices of the ``limit`` largest bounds (ties kept together), sorted best first, then by rows.

    ``argpartition`` first: sorting millions of candidates to score a few thousand is wasted work.
    """
    if bound.size > limit:
        cut = np.partition(bound, bound.size - limit)[bound.size - limit]
        chosen = np.flatnonzero(bound >= cut)
    else:
        chosen = np.arange(bound.size)
    order = chosen[np.lexsort((cand.b[chosen], cand.a[chosen], -bound[chosen]))]
    return order[:limit]


def score_best_first(
    snos: list[StructuredNarrativeObject],
    cand: Candidates,
    ent: FloatArray,
    bound: FloatArray,
    t: FloatArray,
    *,
    config: CNSConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
    opts: PairSearchOptions,
    max_pairs: int,
    stats: PairSearchStats,
    facts: PairMatches | None = None,
    counter: StepCounter | None = None,
) -> ScoredPairs:
    """Score candidates best bound first, batch by batch, until no better pair is possible.

    ``counter`` (a watched search) hears after every few candidates; it ends at the number scored.
    """
    th = config.synthesis_thresholds
    order = best_first_order(cand, bound, opts.max_scored_candidates)
    out = ScoredPairs([], [], [], [], [], [])
    limit = order.size
    start = 0
    judge = opposition_judge(snos, config=config.chirality, nli=nli, embedder=embedder, facts=facts)
    if counter is not None:
        counter.start(int(limit))
    while start < limit:
        if len(out.potential) >= max_pairs:
            kth = sorted(out.potential, reverse=True)[max_pairs - 1]
            if POTENTIAL_BONUS_MAX * math.sqrt(bound[order[start]]) < kth - EPS:
                break
        batch = order[start : min(limit, start + opts.nli_batch_size)]
        a, b = cand.a[batch], cand.b[batch]
        opp, nli_pairs, relevance = judge_candidates(a, b, judge, counter)
        stats.nli_pairs += nli_pairs
        chir = chirality_batch(opp, t[a], t[b])
        pot = synthesis_potential(chir, ent[batch])
        out.judged += zip(a.tolist(), b.tolist(), opp.tolist(), relevance.tolist(), strict=True)
        out.judged_scores += zip(chir.tolist(), ent[batch].tolist(), pot.tolist(), strict=True)
        ok = (opp >= th.opposition) & (chir >= th.chirality) & (pot >= th.potential) & (pot > 0)
        out.a += a[ok].tolist()
        out.b += b[ok].tolist()
        out.chirality += chir[ok].tolist()
        out.entanglement += ent[batch][ok].tolist()
        out.potential += pot[ok].tolist()
        out.opposition += opp[ok].tolist()
        start += batch.size
    stats.scored_candidates = start
    if counter is not None:
        counter.finish()
    stats.exact = start >= stats.entangled_candidates or start < limit
    return out


def top_by_bound(
    cand: Candidates, ent: FloatArray, bound: FloatArray, limit: int
) -> tuple[Candidates, FloatArray, FloatArray]:
    """Exactly the ``limit`` best bounds, ties at the cut broken by ``(a, b)``.

    The global best ``limit`` lie in the union of the blocks' best ``limit``. A hard cap (not "all
    ties") keeps memory bounded even when millions of candidates share one bound; dropping tied
    candidates cannot break exactness, because they score no better than a kept one.
    """
    if bound.size <= limit:
        return cand, ent, bound
    cut = np.partition(bound, bound.size - limit)[bound.size - limit]
    above = np.flatnonzero(bound > cut)
    ties = np.flatnonzero(bound == cut)
    ties = ties[np.lexsort((cand.b[ties], cand.a[ties]))][: limit - above.size]
    keep = np.sort(np.concatenate([above, ties]))
    return Candidates(cand.a[keep], cand.b[keep], cand.shared[keep]), ent[keep], bound[keep]
