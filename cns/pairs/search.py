"""Chiral-pair search: evidence-key and topic candidates, exact bounds, few model calls, one side check.

Pipeline, cheapest filter first:

1. **eligible SNOs** — trusted, with evidence, and ``opp_max · T · T_max ≥ θ_C`` (chirality is
   ``opposition · T_a · T_b`` with opposition ≤ ``opp_max``, so nobody else can reach θ_C);
2. **candidates** — pairs sharing an evidence key (:mod:`cns.pairs.candidates`), with their
   exact Jaccard ``E``, plus pairs whose evidence items state the same fact
   (:mod:`cns.pairs.facts`, one bounded embedding search and one NLI call; a fact match counts
   ``evidence_matching.fact_weight`` in ``E``); dropped unless ``E ≥ θ_E``, ``E > 0`` and the
   potential bound passes;
3. **best-first exact scoring** (:mod:`cns.pairs.ranking`) — candidates sorted by the bound ``opp_max · T_a · T_b · E``
   (``P ≤ 1.2 · sqrt(C · E)`` is monotone in it) are scored in NLI batches; scoring stops once the
   next bound cannot beat the current ``max_pairs``-th potential (the result is then exactly the
   brute force result) or after ``max_scored_candidates`` (then ``stats.exact`` is False);
4. **topic neighbours** (:mod:`cns.pairs.opposition`) — pairs that share no evidence but are each
   other's nearest narratives by topic, judged the same way (``source="opposition"``);
5. **side check** (:mod:`cns.pairs.sides`) — every judged pair between narratives that take a
   side votes on which side of their question each stands, the others are placed beside the one
   they oppose least; qualifying pairs whose narratives land on one side are dropped;
   the votes, and the order of pairs without shared evidence, use the self-contrasted opposition
   (:mod:`cns.pairs.side_votes`, ``pair_search.side_contrast``), the thresholds the raw one;
6. **the cap** ``max_pairs``: pairs that share evidence first (best potential first, so step 3
   stays exact), then the topic neighbours in the remaining slots, shared across questions
   (:mod:`cns.pairs.quota`, ``pair_search.share_cap``): each question's best pair before any
   question's second;
7. **conflict points** for the returned pairs only, in one NLI call.

No step before 3 calls a model, so cost is dominated by the sparse product and stays near-linear.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import ChiralityMethod, CNSConfig
from cns.core.progress import PAIR_CONFLICTS, PAIR_EVIDENCE, PAIR_FACTS, PAIR_TOPIC, ProgressCallback
from cns.core.sno import StructuredNarrativeObject
from cns.errors import ValidationError
from cns.logging_setup import get_logger
from cns.metrics import chirality_batch, jaccard_from_counts
from cns.metrics.shared_facts import EvidenceMatch
from cns.pairs.candidates import CandidateIndex, Candidates, Incidence
from cns.pairs.facts import FactSearchStats, PairMatches, fact_entanglement, find_fact_matches
from cns.pairs.opposition import opposition_pairs
from cns.pairs.progress import StepCounter, conflicts_with_progress
from cns.pairs.quota import share_cap
from cns.pairs.ranking import EPS, POTENTIAL_BONUS_MAX, score_best_first, top_by_bound
from cns.pairs.scoring import can_reach_chirality, opposition_upper_bound, trusts
from cns.pairs.side_votes import by_key, contrasted
from cns.pairs.sides import assign_sides, place_abstainers, same_side, side_edges, signed_edges
from cns.pairs.types import ChiralPair, JudgedCandidate, PairSearchOptions, PairSearchStats, PairSource
from cns.pairs.verdict import MAX_PAIRS, SIDE_CHECK, checks, first_failure
from cns.ports import Embedder, NLIModel, SNOStore

log = get_logger(__name__)
FloatArray = NDArray[np.float64]


@dataclass
class PairSearchResult:
    """The pairs found, what the search did, and every pair it judged on the way.

    ``judged`` lists each scored candidate with its scores and the rule that stopped it (the
    report's near misses and ``cns why`` read it); ``fact_matches`` maps ``(id, id)`` (in the
    order the matches are oriented: ``text_a`` from the first) to the evidence items the two
    SNOs share as the same fact.
    """

    pairs: list[ChiralPair]
    stats: PairSearchStats
    judged: list[JudgedCandidate] = field(default_factory=list)
    fact_matches: dict[tuple[str, str], list[EvidenceMatch]] = field(default_factory=dict)


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


def _counters(progress: ProgressCallback | None) -> dict[str, StepCounter]:
    """One counter per model-calling stage of a watched search (none when nobody watches)."""
    if progress is None:
        return {}
    return {
        step: StepCounter(step, progress) for step in (PAIR_FACTS, PAIR_EVIDENCE, PAIR_TOPIC, PAIR_CONFLICTS)
    }


def _fact_matches(
    snos: list[StructuredNarrativeObject],
    t: FloatArray,
    config: CNSConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
    stats: PairSearchStats,
    counter: StepCounter | None = None,
) -> tuple[PairMatches, NLIModel | None]:
    """Fact matches among eligible SNOs (none without an embedder, or when ``facts`` is off)."""
    cfg = config.evidence_matching
    if not cfg.facts or cfg.fact_weight <= 0 or embedder is None:
        return {}, nli
    eligible = can_reach_chirality(t, config)
    rows = [i for i, s in enumerate(snos) if eligible[i] and s.evidence_set]
    if len(rows) < 2:
        return {}, nli
    nli = nli or _load_nli(config)
    clock = time.perf_counter()
    found = FactSearchStats()
    if counter is not None:
        counter.start(1)  # one model call over every narrative's evidence
    matches = find_fact_matches(snos, rows, config=config, nli=nli, embedder=embedder, stats=found)
    if counter is not None:
        counter.advance(1)
    stats.fact_items, stats.fact_judged_pairs = found.items, found.judged_pairs
    stats.fact_matches, stats.fact_pairs = found.matches, len(matches)
    stats.nli_pairs += 2 * found.judged_pairs
    stats.seconds["facts"] = time.perf_counter() - clock
    return matches, nli


def _with_facts(
    cand: Candidates,
    ent: FloatArray,
    sizes: NDArray[np.int64],
    facts: PairMatches,
    w: float,
    seen: set[tuple[int, int]],
) -> FloatArray:
    """``ent`` with the fact matches of the candidates that have some (a few rows, found by code)."""
    if not facts or len(cand) == 0:
        return ent
    n = int(sizes.shape[0])
    codes = cand.a.astype(np.int64) * n + cand.b.astype(np.int64)
    wanted = np.array([i * n + j for i, j in facts], dtype=np.int64)
    out = ent.copy()
    for h in np.flatnonzero(np.isin(codes, wanted)).tolist():
        i, j = int(cand.a[h]), int(cand.b[h])
        seen.add((i, j))
        out[h] = fact_entanglement(int(cand.shared[h]), int(sizes[i]), int(sizes[j]), facts[(i, j)], w)
    return out


def _fact_only(
    facts: PairMatches, seen: set[tuple[int, int]], sizes: NDArray[np.int64], w: float
) -> tuple[Candidates, FloatArray]:
    rest = sorted(k for k in facts if k not in seen)
    a = np.array([i for i, _ in rest], dtype=np.int32)
    b = np.array([j for _, j in rest], dtype=np.int32)
    ent = np.array([fact_entanglement(0, int(sizes[i]), int(sizes[j]), facts[(i, j)], w) for i, j in rest])
    return Candidates(a, b, np.zeros(len(rest), dtype=np.int32)), ent.astype(np.float64)


def _entangled(
    snos: list[StructuredNarrativeObject],
    t: FloatArray,
    config: CNSConfig,
    opts: PairSearchOptions,
    stats: PairSearchStats,
    facts: PairMatches | None = None,
) -> tuple[Candidates, FloatArray, FloatArray]:
    th = config.synthesis_thresholds
    omax = opposition_upper_bound(config.chirality)
    facts = facts or {}
    w = config.evidence_matching.fact_weight
    clock = time.perf_counter()
    inc = Incidence.from_flat(
        [key for s in snos for key in s.source_keys], [len(s.source_keys) for s in snos]
    )
    trusted = ~np.isnan(t)
    t0 = np.where(trusted, t, 0.0)
    keep = can_reach_chirality(t, config) & (inc.sizes > 0)
    stats.eligible, stats.keys = int(keep.sum()), inc.n_keys
    index = CandidateIndex(inc, keep_rows=keep, stop_key_max_postings=opts.stop_key_max_postings)
    stats.seconds["index"] = time.perf_counter() - clock
    stats.stop_keys, stats.stop_key_postings = index.stop.count, index.stop.postings
    parts: list[tuple[Candidates, FloatArray, FloatArray]] = []
    seen: set[tuple[int, int]] = set()

    def blocks() -> Iterator[tuple[Candidates, FloatArray | None]]:
        for block in index.blocks():
            yield block, None
        if facts:  # after the key blocks (``seen`` is complete): pairs that share only facts
            yield _fact_only(facts, seen, inc.sizes, w)

    for cand, fixed in blocks():
        stats.raw_candidates += len(cand)
        a, b = cand.a, cand.b
        cmax = omax * t0[a] * t0[b]
        ent = fixed if fixed is not None else jaccard_from_counts(cand.shared, inc.sizes[a], inc.sizes[b])
        if fixed is None:
            ent = _with_facts(cand, ent, inc.sizes, facts, w, seen)
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
    progress: ProgressCallback | None = None,
) -> PairSearchResult:
    """Like :func:`find_chiral_pairs` but also returns what the search did (:class:`PairSearchStats`).

    ``progress`` hears how far each model-calling stage has got (:mod:`cns.core.progress`); the
    candidates are then judged a few at a time (:mod:`cns.pairs.progress`).
    """
    opts = options or PairSearchOptions()
    snos = population_of(snos_or_store)
    max_pairs = opts.max_pairs or config.population.max_pairs
    stats = PairSearchStats(population=len(snos))
    clock = time.perf_counter()
    t = trusts(snos)
    watch = _counters(progress)
    facts, nli = _fact_matches(snos, t, config, nli, embedder, stats, watch.get(PAIR_FACTS))
    cand, ent, bound = _entangled(snos, t, config, opts, stats, facts)
    stats.seconds["candidates"] = time.perf_counter() - clock - stats.seconds["index"]
    needs_nli = config.chirality.method is not ChiralityMethod.EMBEDDING
    if nli is None and needs_nli and len(cand):
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
        facts=facts,
        counter=watch.get(PAIR_EVIDENCE),
    )
    pairs = [
        _make_pair(snos[i], snos[j], c, e, p, o, facts.get((min(i, j), max(i, j)), []))
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
    judged = list(scored.judged)
    records = _records(snos, "evidence", scored.judged, scored.judged_scores)
    topic_pairs: list[ChiralPair] = []
    neighbours = topic_neighbours(opts, config)
    if neighbours > 0:
        topic_pairs, topic_judged, nli = opposition_pairs(
            snos,
            t,
            config=config,
            nli=nli,
            load_nli=lambda: _load_nli(config),
            embedder=embedder,
            stats=stats,
            neighbours=neighbours,
            counter=watch.get(PAIR_TOPIC),
        )
        judged += topic_judged
        records += _topic_records(snos, t, topic_judged)
    qualifying = {p.key for p in pairs} | {p.key for p in topic_pairs}
    votes, spent = contrasted(snos, judged, config, nli=nli, embedder=embedder, facts=facts)
    stats.nli_pairs += spent
    if config.pair_search.side_consistency and votes:
        pairs, topic_pairs = _one_side_dropped(snos, votes, pairs, topic_pairs, config, stats)
    one_side = qualifying - {p.key for p in pairs} - {p.key for p in topic_pairs}
    if spent:  # pairs without shared evidence, strongest contrasted chirality first (:mod:`.side_votes`)
        weight = by_key(snos, votes)
        topic_pairs.sort(key=lambda pr: (-weight.get(pr.key, 0.0) * _trust(pr), *pr.key))
    pairs.sort(key=lambda pr: (-pr.potential, *pr.key))
    taken = {p.key for p in pairs}
    pinned = len(pairs)  # pairs that share evidence keep the exact best-first cut
    pairs += [p for p in topic_pairs if p.key not in taken]
    pairs = share_cap(pairs, max_pairs, pinned=pinned) if config.pair_search.share_cap else pairs[:max_pairs]
    reported = {p.key for p in pairs}
    records = [_with_outcome(r, config, one_side, reported) for r in records]
    stats.seconds["scoring"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if pairs:
        nli = nli or _load_nli(config)
        points = conflicts_with_progress(
            [(p.sno_a, p.sno_b) for p in pairs],
            nli=nli,
            threshold=opts.conflict_threshold,
            top=opts.max_conflict_points,
            max_claims_per_side=opts.max_claims_per_side,
            counter=watch.get(PAIR_CONFLICTS),
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
    fact_ids = {(snos[i].sno_id, snos[j].sno_id): found for (i, j), found in facts.items()}
    return PairSearchResult(pairs, stats, records, fact_ids)


def _records(
    snos: list[StructuredNarrativeObject],
    route: PairSource,
    judged: Sequence[tuple[int, int, float, float]],
    scores: Sequence[tuple[float, float, float]],
) -> list[JudgedCandidate]:
    """Judged candidates as records in canonical orientation (the outcome is set later)."""
    out = []
    for (i, j, o, r), (c, e, p) in zip(judged, scores, strict=True):
        a, b = sorted((snos[i].sno_id, snos[j].sno_id))
        out.append(JudgedCandidate(a, b, route, o, r, c, e, p))
    return out


def _topic_records(
    snos: list[StructuredNarrativeObject], t: FloatArray, judged: Sequence[tuple[int, int, float, float]]
) -> list[JudgedCandidate]:
    """Records of the judged topic neighbours: chirality as the neighbour search computed it, E = P = 0."""
    t0 = np.where(np.isnan(t), 0.0, t)
    a = np.array([j[0] for j in judged], dtype=np.int64)
    b = np.array([j[1] for j in judged], dtype=np.int64)
    chir = chirality_batch([j[2] for j in judged], t0[a], t0[b]) if judged else np.zeros(0)
    return _records(snos, "opposition", judged, [(float(c), 0.0, 0.0) for c in chir])


def _with_outcome(
    record: JudgedCandidate, config: CNSConfig, one_side: set[tuple[str, str]], reported: set[tuple[str, str]]
) -> JudgedCandidate:
    """``record`` with ``stopped_by``: the first failed rule, the side check, the cap, or None."""
    failed = first_failure(
        checks(
            record.route,
            opposition=record.opposition,
            relevance=record.relevance,
            chirality=record.chirality,
            entanglement=record.entanglement,
            potential=record.potential,
            thresholds=config.synthesis_thresholds,
        )
    )
    if failed is not None:
        stopped: str | None = failed.name
    elif record.key in one_side:
        stopped = SIDE_CHECK
    elif record.key not in reported:
        stopped = MAX_PAIRS
    else:
        stopped = None
    return JudgedCandidate(
        record.sno_a,
        record.sno_b,
        record.route,
        record.opposition,
        record.relevance,
        record.chirality,
        record.entanglement,
        record.potential,
        stopped,
    )


def topic_neighbours(opts: PairSearchOptions, config: CNSConfig) -> int:
    """How many topic neighbours per SNO to judge: the options' override, else ``pair_search``."""
    if opts.opposition_search is False:
        return 0
    if opts.opposition_neighbours is not None:
        return opts.opposition_neighbours
    if opts.opposition_search is None:
        return config.pair_search.topic_neighbours
    return config.pair_search.topic_neighbours or PairSearchOptions.DEFAULT_NEIGHBOURS


def _one_side_dropped(
    snos: list[StructuredNarrativeObject],
    judged: list[tuple[int, int, float, float]],
    pairs: list[ChiralPair],
    topic_pairs: list[ChiralPair],
    config: CNSConfig,
    stats: PairSearchStats,
) -> tuple[list[ChiralPair], list[ChiralPair]]:
    """Drop qualifying pairs whose narratives the side assignment puts on one side (:mod:`.sides`)."""
    # weight = (opposition − θ_O) · relevance, between narratives that take a side (:func:`side_edges`);
    # the opposition is the self-contrasted one when `pair_search.side_contrast` (:mod:`.side_votes`)
    neutral = config.synthesis_thresholds.opposition
    # then each narrative that took no side joins the side it opposes least, where that is clear
    sides = place_abstainers(assign_sides(side_edges(judged, neutral)), signed_edges(judged, neutral))
    row = {s.sno_id: i for i, s in enumerate(snos)}

    def keep(p: ChiralPair) -> bool:
        return not same_side(sides, row[p.sno_a.sno_id], row[p.sno_b.sno_id])

    kept, kept_topic = [p for p in pairs if keep(p)], [p for p in topic_pairs if keep(p)]
    stats.same_side_dropped = len(pairs) + len(topic_pairs) - len(kept) - len(kept_topic)
    return kept, kept_topic


def _trust(pair: ChiralPair) -> float:
    """``T_a · T_b`` of a reported pair (both are trusted, or it would not have been scored)."""
    return float(pair.sno_a.trust_score or 0.0) * float(pair.sno_b.trust_score or 0.0)


def _load_nli(config: CNSConfig) -> NLIModel:
    from cns.models import load_nli  # imported late: model code is heavy and often not needed

    return load_nli(config=config)


def evidence_matches(
    a: StructuredNarrativeObject, b: StructuredNarrativeObject, facts: list[EvidenceMatch], *, swapped: bool
) -> list[EvidenceMatch]:
    """Key matches (sorted) then fact matches (best first), each oriented ``text_a`` from ``a``."""
    items_a = {i.key: i for i in a.evidence_set if i.is_source}
    items_b = {i.key: i for i in b.evidence_set if i.is_source}
    keys = [
        EvidenceMatch("key", k, k, 1.0, items_a[k].content, items_b[k].content)
        for k in sorted(items_a.keys() & items_b.keys())
    ]
    if swapped:
        facts = [
            EvidenceMatch("fact", m.key_b, m.key_a, m.score, m.text_b, m.text_a, m.b_is_source, m.a_is_source)
            for m in facts
        ]
    return keys + list(facts)


def _make_pair(
    x: StructuredNarrativeObject,
    y: StructuredNarrativeObject,
    c: float,
    e: float,
    p: float,
    o: float,
    facts: list[EvidenceMatch] | None = None,
) -> ChiralPair:
    """The pair in canonical orientation; ``facts`` are oriented as ``(x, y)``."""
    swapped = x.sno_id > y.sno_id
    a, b = (y, x) if swapped else (x, y)
    matches = evidence_matches(a, b, facts or [], swapped=swapped)
    return ChiralPair(a, b, c, e, p, a.source_keys & b.source_keys, opposition=o, evidence_matches=matches)


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
    SNOs without a trust score are never paired. Remaining slots are filled with opposed topic
    neighbours that share no evidence (``source="opposition"``, ``pair_search.topic_neighbours``).
    ``nli`` defaults to ``load_nli(config=config)`` when the method or the conflict points need it.
    """
    return search_chiral_pairs(snos_or_store, config, nli=nli, embedder=embedder, options=options).pairs
