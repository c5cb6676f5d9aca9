"""Chiral-pair search: evidence-key candidates, exact bounds, then few model calls (spec §4, G1, G2).

Pipeline, cheapest filter first:

1. **eligible SNOs** — trusted, with evidence, and ``opp_max · T · T_max ≥ θ_C`` (chirality is
   ``opposition · T_a · T_b`` with opposition ≤ ``opp_max``, so nobody else can reach θ_C);
2. **candidates** — pairs sharing an evidence key (:mod:`cns.pairs.candidates`), with their
   exact Jaccard ``E``; dropped unless ``E ≥ θ_E``, ``E > 0`` and the potential bound passes;
3. **best-first exact scoring** (:mod:`cns.pairs.ranking`) — candidates sorted by the bound ``opp_max · T_a · T_b · E``
   (``P ≤ 1.2 · sqrt(C · E)`` is monotone in it) are scored in NLI batches; scoring stops once the
   next bound cannot beat the current ``max_pairs``-th potential (the result is then exactly the
   brute force result) or after ``max_scored_candidates`` (then ``stats.exact`` is False);
4. **conflict points** for the returned pairs only, in one NLI call.

No step before 3 calls a model, so cost is dominated by the sparse product and stays near-linear.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import ChiralityMethod, CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.errors import ValidationError
from cns.logging_setup import get_logger
from cns.metrics import jaccard_from_counts
from cns.pairs.candidates import CandidateIndex, Candidates, Incidence
from cns.pairs.conflicts import conflict_points
from cns.pairs.opposition import opposition_pairs
from cns.pairs.ranking import EPS, POTENTIAL_BONUS_MAX, score_best_first, top_by_bound
from cns.pairs.scoring import opposition_upper_bound, trusts
from cns.pairs.types import ChiralPair, PairSearchOptions, PairSearchStats
from cns.ports import Embedder, NLIModel, SNOStore

log = get_logger(__name__)
FloatArray = NDArray[np.float64]


@dataclass
class PairSearchResult:
    pairs: list[ChiralPair]
    stats: PairSearchStats


def population_of(
    snos_or_store: Sequence[StructuredNarrativeObject] | SNOStore,
) -> list[StructuredNarrativeObject]:
    """A list of SNOs, or the *active* SNOs of a store."""
    if isinstance(snos_or_store, SNOStore):
        return snos_or_store.list(status="active")
    if isinstance(snos_or_store, Sequence) and all(
        isinstance(s, StructuredNarrativeObject) for s in snos_or_store
    ):
        return list(snos_or_store)
    raise ValidationError(
        "find_chiral_pairs expects a list of StructuredNarrativeObject or an SNOStore, "
        f"got {type(snos_or_store).__name__}"
    )


def _entangled(
    snos: list[StructuredNarrativeObject],
    t: FloatArray,
    config: CNSConfig,
    opts: PairSearchOptions,
    stats: PairSearchStats,
) -> tuple[Candidates, FloatArray, FloatArray]:
    th = config.synthesis_thresholds
    omax = opposition_upper_bound(config.chirality)
    clock = time.perf_counter()
    inc = Incidence.from_flat(
        [key for s in snos for key in s.source_keys], [len(s.source_keys) for s in snos]
    )
    trusted = ~np.isnan(t)
    t0 = np.where(trusted, t, 0.0)
    t_max = float(t0.max()) if t0.size else 0.0
    keep = trusted & (inc.sizes > 0) & (omax * t0 * t_max >= th.chirality - EPS)
    stats.eligible, stats.keys = int(keep.sum()), inc.n_keys
    index = CandidateIndex(inc, keep_rows=keep, stop_key_max_postings=opts.stop_key_max_postings)
    stats.seconds["index"] = time.perf_counter() - clock
    stats.stop_keys, stats.stop_key_postings = index.stop.count, index.stop.postings
    parts: list[tuple[Candidates, FloatArray, FloatArray]] = []
    for cand in index.blocks():
        stats.raw_candidates += len(cand)
        a, b = cand.a, cand.b
        cmax = omax * t0[a] * t0[b]
        ent = jaccard_from_counts(cand.shared, inc.sizes[a], inc.sizes[b])
        bound = cmax * ent
        ok = (
            (cmax >= th.chirality - EPS)
            & (ent >= th.entanglement)
            & (ent > 0)
            & (POTENTIAL_BONUS_MAX * np.sqrt(bound) >= th.potential - EPS)
        )
        stats.entangled_candidates += int(ok.sum())
        parts.append(top_by_bound(cand.take(ok), ent[ok], bound[ok], opts.max_scored_candidates))
    if not parts:
        empty = np.zeros(0, dtype=np.int32)
        return Candidates(empty, empty, empty), np.zeros(0), np.zeros(0)
    merged = Candidates(
        np.concatenate([p[0].a for p in parts]),
        np.concatenate([p[0].b for p in parts]),
        np.concatenate([p[0].shared for p in parts]),
    )
    return merged, np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


def search_chiral_pairs(
    snos_or_store: Sequence[StructuredNarrativeObject] | SNOStore,
    config: CNSConfig,
    *,
    nli: NLIModel | None = None,
    embedder: Embedder | None = None,
    options: PairSearchOptions | None = None,
) -> PairSearchResult:
    """Like :func:`find_chiral_pairs` but also returns what the search did (:class:`PairSearchStats`)."""
    opts = options or PairSearchOptions()
    snos = population_of(snos_or_store)
    max_pairs = opts.max_pairs or config.population.max_pairs
    stats = PairSearchStats(population=len(snos))
    clock = time.perf_counter()
    t = trusts(snos)
    cand, ent, bound = _entangled(snos, t, config, opts, stats)
    stats.seconds["candidates"] = time.perf_counter() - clock - stats.seconds["index"]
    needs_nli = config.chirality.method is not ChiralityMethod.EMBEDDING
    if nli is None and needs_nli and (len(cand) or opts.opposition_search):
        nli = _load_nli(config)  # only when there is something to score
    clock = time.perf_counter()
    scored = score_best_first(
        snos,
        cand,
        ent,
        bound,
        t,
        config=config,
        nli=nli,
        embedder=embedder,
        opts=opts,
        max_pairs=max_pairs,
        stats=stats,
    )
    pairs = [
        _make_pair(snos[i], snos[j], c, e, p, o)
        for i, j, c, e, p, o in zip(
            scored.a,
            scored.b,
            scored.chirality,
            scored.entanglement,
            scored.potential,
            scored.opposition,
            strict=True,
        )
    ]
    pairs.sort(key=lambda pr: (-pr.potential, *pr.key))
    pairs = pairs[:max_pairs]
    if opts.opposition_search and len(pairs) < max_pairs:
        extra = opposition_pairs(snos, t, config=config, nli=nli, embedder=embedder, opts=opts, stats=stats)
        taken = {p.key for p in pairs}
        pairs += [p for p in extra if p.key not in taken][: max_pairs - len(pairs)]
    stats.seconds["scoring"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if pairs:
        nli = nli or _load_nli(config)
        points = conflict_points(
            [(p.sno_a, p.sno_b) for p in pairs],
            nli=nli,
            threshold=opts.conflict_threshold,
            top=opts.max_conflict_points,
            max_claims_per_side=opts.max_claims_per_side,
        )
        for pair, found in zip(pairs, points, strict=True):
            pair.conflict_points = found
    stats.seconds["conflicts"] = time.perf_counter() - clock
    log.info(
        "pairs.search_complete",
        population=stats.population,
        candidates=stats.entangled_candidates,
        scored=stats.scored_candidates,
        pairs=len(pairs),
        exact=stats.exact,
        seconds=round(sum(stats.seconds.values()), 4),
    )
    return PairSearchResult(pairs, stats)


def _load_nli(config: CNSConfig) -> NLIModel:
    from cns.models import load_nli  # imported late: model code is heavy and often not needed

    return load_nli(config=config)


def _make_pair(
    x: StructuredNarrativeObject, y: StructuredNarrativeObject, c: float, e: float, p: float, o: float
) -> ChiralPair:
    a, b = (x, y) if x.sno_id <= y.sno_id else (y, x)
    return ChiralPair(a, b, c, e, p, a.source_keys & b.source_keys, opposition=o)


def find_chiral_pairs(
    snos_or_store: Sequence[StructuredNarrativeObject] | SNOStore,
    config: CNSConfig,
    *,
    nli: NLIModel | None = None,
    embedder: Embedder | None = None,
    options: PairSearchOptions | None = None,
) -> list[ChiralPair]:
    """The top ``population.max_pairs`` chiral pairs, best synthesis potential first.

    A pair qualifies when ``C ≥ θ_C``, ``E ≥ θ_E`` (and ``E > 0``) and ``P ≥ θ_P`` with the
    thresholds of ``config.synthesis_thresholds`` and the chirality of ``config.chirality``.
    SNOs without a trust score are never paired. With ``options.opposition_search`` the
    remaining slots are filled with opposed pairs that share no evidence (``source="opposition"``).
    ``nli`` defaults to ``load_nli(config=config)`` when the method or the conflict points need it.
    """
    return search_chiral_pairs(snos_or_store, config, nli=nli, embedder=embedder, options=options).pairs
