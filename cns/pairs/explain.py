"""Why two narratives were, or were not, reported as a chiral pair (``cns why A B``).

Everything here is read from the pair search itself or computed with its own functions — the
evidence matches and entanglement (:mod:`cns.pairs.facts`), the opposition and its parts
(:func:`cns.pairs.scoring.opposition_with_parts`), chirality and potential
(:mod:`cns.metrics`) and the trigger's rules (:mod:`cns.pairs.verdict`) — so the explanation
cannot disagree with what ``cns pairs`` reports. When the search judged the pair, its numbers and
its verdict are used; otherwise the explanation says which filter kept the pair from being
judged at all (not in the population, too little shared evidence, not topic neighbours …).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cns.config.settings import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.metrics import chirality_batch, jaccard_from_counts, synthesis_potential
from cns.metrics.shared_facts import EvidenceMatch
from cns.pairs.facts import fact_entanglement
from cns.pairs.scoring import opposition_upper_bound, opposition_with_parts
from cns.pairs.search import PairSearchResult, evidence_matches, topic_neighbours
from cns.pairs.types import JudgedCandidate, PairSearchOptions, PairSource, pair_key
from cns.pairs.verdict import SETTING, Check, checks, first_failure
from cns.ports import Embedder, NLIModel
from cns.synthesis.view import is_synthesis

#: stops before any scoring, in the words ``cns why`` prints
NOT_IN_POPULATION = "population"
NO_ROUTE = "no shared evidence"
NOT_NEIGHBOURS = "not topic neighbours"
NOT_SCORED = "not scored"


@dataclass
class PairExplanation:
    """All a person needs to see why a pair was reported or not; ``to_dict`` is the JSON form."""

    sno_a: StructuredNarrativeObject
    sno_b: StructuredNarrativeObject
    excluded: dict[str, str]
    matches: list[EvidenceMatch]
    entanglement: float
    route: PairSource | None
    opposition: float
    relevance: float
    parts: dict[str, Any]
    chirality: float
    potential: float
    checks: list[Check]
    judged: JudgedCandidate | None
    paired: bool
    stopped_by: str | None
    reason: str
    neighbour_ranks: tuple[int | None, int | None] = (None, None)
    neighbours: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "paired" if self.paired else f"not paired: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        def side(sno: StructuredNarrativeObject) -> dict[str, Any]:
            return {
                "sno_id": sno.sno_id,
                "file": sno.metadata.get("source"),
                "status": sno.status.value,
                "trust": sno.trust_score,
                "hypothesis": sno.central_hypothesis,
            }

        return {
            "paired": self.paired,
            "verdict": self.verdict,
            "stopped_by": self.stopped_by,
            "setting": SETTING.get(self.stopped_by or ""),
            "a": side(self.sno_a),
            "b": side(self.sno_b),
            "excluded": dict(self.excluded),
            "shared_evidence": [m.to_dict() for m in self.matches],
            "entanglement": self.entanglement,
            "route": self.route,
            "opposition": self.opposition,
            "topic_gate": self.relevance,
            "opposition_parts": dict(self.parts),
            "chirality": self.chirality,
            "potential": self.potential,
            "checks": [
                {
                    "name": c.name,
                    "value": c.value,
                    "threshold": c.threshold,
                    "passed": c.passed,
                    "setting": c.setting,
                }
                for c in self.checks
            ],
            "topic_neighbour_ranks": list(self.neighbour_ranks),
            "topic_neighbours": self.neighbours,
            "judged_by_search": self.judged is not None,
            "notes": list(self.notes),
        }


def why_excluded(sno: StructuredNarrativeObject, config: CNSConfig) -> str:
    """Why an SNO is not in the pairing population, in words."""
    if sno.status.value == "archived":
        reason = sno.metadata.get("archive_reason")
        return f"archived ({reason})" if reason else "archived"
    if is_synthesis(sno) and not config.population.pair_syntheses:
        return "a synthesis: syntheses pair only with --include-syntheses (population.pair_syntheses)"
    if sno.trust_score is None:
        return "not evaluated (no trust score)"
    return f"not in the active population (status {sno.status.value})"


def _facts_between(
    search: PairSearchResult, x: StructuredNarrativeObject, y: StructuredNarrativeObject
) -> tuple[list[EvidenceMatch], bool]:
    """The search's fact matches of the pair and whether they are oriented ``y → x``."""
    if (x.sno_id, y.sno_id) in search.fact_matches:
        return search.fact_matches[(x.sno_id, y.sno_id)], False
    return search.fact_matches.get((y.sno_id, x.sno_id), []), True


def _rank(sims: np.ndarray[Any, Any], own: int, other: int) -> int:
    """1 + how many narratives (other than ``own``) are closer to ``own`` than ``other`` is."""
    mask = np.ones(sims.shape[0], dtype=bool)
    mask[[own, other]] = False
    return 1 + int(np.sum(sims[mask] > sims[other]))


def neighbour_ranks(
    population: Sequence[StructuredNarrativeObject],
    x: StructuredNarrativeObject,
    y: StructuredNarrativeObject,
) -> tuple[int | None, int | None]:
    """Rank of ``y`` among ``x``'s topic neighbours and of ``x`` among ``y``'s (inner product of
    the hypothesis embeddings, over the trusted narratives the neighbour search looks at)."""
    chosen = [s for s in population if s.hypothesis_embedding is not None and s.trust_score is not None]
    ids = [s.sno_id for s in chosen]
    if x.sno_id not in ids or y.sno_id not in ids:
        return None, None
    vectors = np.stack([s.hypothesis_embedding for s in chosen]).astype(np.float64)  # type: ignore[misc]
    i, j = ids.index(x.sno_id), ids.index(y.sno_id)
    return _rank(vectors @ vectors[i], i, j), _rank(vectors @ vectors[j], j, i)


def explain_pair(
    first: StructuredNarrativeObject,
    second: StructuredNarrativeObject,
    *,
    population: Sequence[StructuredNarrativeObject],
    search: PairSearchResult,
    config: CNSConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
    options: PairSearchOptions | None = None,
) -> PairExplanation:
    """Explain the pair ``{first, second}`` against ``search``, the search over ``population``."""
    x, y = (first, second) if first.sno_id <= second.sno_id else (second, first)
    members = {s.sno_id for s in population}
    excluded = {s.sno_id: why_excluded(s, config) for s in (x, y) if s.sno_id not in members}
    facts, reversed_facts = _facts_between(search, x, y)
    matches = evidence_matches(x, y, facts, swapped=reversed_facts)
    shared = len(x.source_keys & y.source_keys)
    fact_xy = [m for m in matches if m.kind == "fact"]
    w = config.evidence_matching.fact_weight
    if fact_xy:
        ent = fact_entanglement(shared, len(x.source_keys), len(y.source_keys), fact_xy, w)
    else:
        ent = float(jaccard_from_counts(shared, len(x.source_keys), len(y.source_keys)))
    k = topic_neighbours(options or PairSearchOptions(), config)
    route: PairSource | None = "evidence" if ent > 0 else ("opposition" if k > 0 else None)
    judged = _judged(search, (x.sno_id, y.sno_id), route)
    if judged is not None:
        route = judged.route
    rows = np.array([0], dtype=np.int64), np.array([1], dtype=np.int64)
    pair_facts = {(0, 1): fact_xy} if route == "evidence" and fact_xy else None
    opposition, parts = opposition_with_parts(
        [x, y], *rows, config=config.chirality, nli=nli, embedder=embedder, facts=pair_facts
    )
    t = [s.trust_score or 0.0 for s in (x, y)]
    o, r = float(opposition.opposition[0]), float(opposition.relevance[0])
    c = float(chirality_batch([o], [t[0]], [t[1]])[0])
    p = float(synthesis_potential(c, ent)) if route == "evidence" else 0.0
    e = ent if route == "evidence" else 0.0
    notes: list[str] = []
    if judged is not None:
        if abs(judged.opposition - o) > 1e-3:
            notes.append(
                f"the search scored opposition {judged.opposition:.4f} (in a batch with other pairs); "
                f"recomputed alone it is {o:.4f}: the verdict uses the search's value"
            )
        o, r, c, e, p = (
            judged.opposition,
            judged.relevance,
            judged.chirality,
            judged.entanglement,
            judged.potential,
        )
    found = (
        checks(route, opposition=o, relevance=r, chirality=c, entanglement=e, potential=p,
               thresholds=config.synthesis_thresholds)
        if route is not None
        else []
    )  # fmt: skip
    ranks = neighbour_ranks(population, x, y) if route == "opposition" else (None, None)
    explanation = PairExplanation(
        x, y, excluded, matches, ent, route, o, r, parts[0] if parts else {}, c, p, found, judged,
        paired=False, stopped_by=None, reason="", neighbour_ranks=ranks, neighbours=k, notes=notes,
    )  # fmt: skip
    _decide(explanation, search, config)
    return explanation


def _judged(
    search: PairSearchResult, key: tuple[str, str], route: PairSource | None
) -> JudgedCandidate | None:
    """The search's record of the pair: the reported one, else the one on ``route``, else any."""
    records = [j for j in search.judged if j.key == pair_key(*key)]
    for record in records:
        if record.stopped_by is None:
            return record
    return next((j for j in records if j.route == route), records[0] if records else None)


Stop = tuple[str, str]  # (what stopped the pair, the sentence that says so)


def _decide(ex: PairExplanation, search: PairSearchResult, config: CNSConfig) -> None:
    """Set ``paired``, ``stopped_by`` and ``reason``: the first of the steps below that stops it."""
    if any(p.key == pair_key(ex.sno_a.sno_id, ex.sno_b.sno_id) for p in search.pairs):
        ex.paired = True
        return
    steps: tuple[Callable[[], Stop | None], ...] = (
        lambda: _population_stop(ex),
        lambda: _search_stop(ex),
        lambda: _route_stop(ex),
        lambda: _filter_stop(ex, config),
        lambda: _threshold_stop(ex),
    )
    for step in steps:
        found = step()
        if found is not None:
            ex.stopped_by, ex.reason = found
            return
    ex.stopped_by = NOT_SCORED
    ex.reason = (
        "it was not among the candidates the search scored (pair_search limits, or "
        f"{len(search.judged)} judged pairs did not include it); rerun `cns pairs`"
    )


def _population_stop(ex: PairExplanation) -> Stop | None:
    if not ex.excluded:
        return None
    return NOT_IN_POPULATION, "; ".join(f"{_name(ex, sid)} is {why}" for sid, why in ex.excluded.items())


def _search_stop(ex: PairExplanation) -> Stop | None:
    """The search judged the pair: its verdict stands."""
    if ex.judged is None or ex.judged.stopped_by is None:
        return None
    failed = next((c for c in ex.checks if c.name == ex.judged.stopped_by), None)
    return ex.judged.stopped_by, f"stopped by {failed.describe()}" if failed else _after_rules(
        ex.judged.stopped_by
    )


def _route_stop(ex: PairExplanation) -> Stop | None:
    if ex.route is not None:
        return None
    return NO_ROUTE, (
        "they share no evidence (no citation key, no fact match) and the topic-neighbour search is off "
        "(pair_search.topic_neighbours = 0; --topic-pairs turns it on)"
    )


def _filter_stop(ex: PairExplanation, config: CNSConfig) -> Stop | None:
    """The cheap filters that keep a pair from being scored at all."""
    th = config.synthesis_thresholds
    if ex.route == "evidence":
        if ex.entanglement >= th.entanglement and ex.entanglement > 0:
            return None
        return "entanglement", (
            f"stopped by entanglement {ex.entanglement:.4f} < {th.entanglement:.4f} "
            f"({SETTING['entanglement']}): too little shared evidence to be scored"
        )
    ranks = [rank for rank in ex.neighbour_ranks if rank is not None]
    if not ranks:
        return (
            NOT_NEIGHBOURS,
            "no topic-neighbour ranking: one of them has no hypothesis embedding or trust score",
        )
    if min(ranks) > ex.neighbours:
        return NOT_NEIGHBOURS, (
            f"they share no evidence and are not topic neighbours: B is the {ranks[0]}th nearest of A "
            f"and A the {ranks[-1]}th nearest of B; the search looks at the {ex.neighbours} nearest "
            "(pair_search.topic_neighbours)"
        )
    best = (
        opposition_upper_bound(config.chirality) * (ex.sno_a.trust_score or 0) * (ex.sno_b.trust_score or 0)
    )
    if best < th.chirality:
        return "chirality", (
            f"stopped by trust: even full opposition gives chirality {best:.4f} < {th.chirality:.4f} "
            f"({SETTING['chirality']})"
        )
    return None


def _threshold_stop(ex: PairExplanation) -> Stop | None:
    failed = first_failure(ex.checks)
    return None if failed is None else (failed.name, f"stopped by {failed.describe()}")


def _after_rules(stopped: str) -> str:
    if stopped == "side check":
        return (
            "stopped by the side check: it passed every threshold, but the other judged pairs of its "
            "question put both narratives on one side (pair_search.side_consistency)"
        )
    return f"it passed every threshold but more than population.max_pairs pairs did ({SETTING.get(stopped, stopped)})"


def _name(ex: PairExplanation, sno_id: str) -> str:
    sno = ex.sno_a if ex.sno_a.sno_id == sno_id else ex.sno_b
    source = sno.metadata.get("source")
    return f"{sno_id[:12]} ({source})" if source else sno_id[:12]
