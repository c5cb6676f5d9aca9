"""One synthesis cycle over the population: re-score, find chiral pairs, synthesize, store.

These functions are what ``CNSWorkflowManager.find_pairs / synthesize_pair / run_cycle`` do; they
live here to keep the manager a thin façade. With a SQL store every pair, attempt (with its
cooldown, G12) and synthesis is persisted, so a re-run or another worker sees the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.logging_setup import get_logger
from cns.pairs import ChiralPair, PairSearchResult, search_chiral_pairs
from cns.synthesis import SynthesisEngine, SynthesisResult

if TYPE_CHECKING:
    from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)


@dataclass
class CycleReport:
    """What one cycle did: the pairs found and each synthesis outcome (skipped ones included)."""

    search: PairSearchResult
    results: list[tuple[ChiralPair, SynthesisResult]] = field(default_factory=list)
    rescored: int = 0
    archived_at_rescore: list[RescoreArchival] = field(default_factory=list)

    @property
    def accepted(self) -> list[SynthesisResult]:
        return [r for _, r in self.results if r.accepted]

    def summary(self) -> dict[str, Any]:
        return {
            "pairs": len(self.search.pairs),
            "syntheses_attempted": sum(1 for _, r in self.results if not r.skipped),
            "syntheses_accepted": len(self.accepted),
            "syntheses_skipped": sum(1 for _, r in self.results if r.skipped),
            "rescored": self.rescored,
            "archived_at_rescore": len(self.archived_at_rescore),
        }


def build_engine(manager: CNSWorkflowManager) -> SynthesisEngine:
    """The synthesis engine with the store-backed attempt log when the store is SQL."""
    from cns.store.sql import SQLStore

    attempt_log = None
    if isinstance(manager.store, SQLStore):
        from cns.workflow.attempt_log import SQLAttemptLog

        attempt_log = SQLAttemptLog(manager.store, manager.config.population.synthesis_cooldown_seconds)
    return SynthesisEngine(
        manager.config, evaluator=manager.evaluator, llm=manager.llm, nli=manager.nli, attempt_log=attempt_log
    )


@dataclass(frozen=True)
class RescoreArchival:
    """An SNO that re-scoring moved out of the active population, and why."""

    sno_id: str
    source: str | None
    trust_before: float | None
    trust_after: float
    reason: str
    critics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "sno_id": self.sno_id,
            "source": self.source,
            "trust_before": self.trust_before,
            "trust_after": self.trust_after,
            "reason": self.reason,
            "critics": dict(self.critics),
        }


@dataclass
class RescoreReport:
    changed: int = 0
    archived: list[RescoreArchival] = field(default_factory=list)


def rescore_population_report(manager: CNSWorkflowManager) -> RescoreReport:
    """Re-evaluate every active SNO against the current reference set (novelty drifts as it grows).

    An SNO whose trust falls to or below the ingest threshold is archived with the reason, logged
    (``population.rescore_archived``, a warning) and listed in the returned report, so the CLI and
    the run report can show it; the reference set is the stored trust before this pass, so the
    order does not matter.
    """
    population = manager.population()
    reference = manager.reference_index()
    by_id = {sno.sno_id: sno for sno in population}
    threshold = manager.config.thresholds.ingest
    report = RescoreReport()
    changed: list[StructuredNarrativeObject] = []
    for sno in population:
        before = sno.trust_score
        result = manager.evaluator.evaluate(sno, reference_index=reference, reference_lookup=by_id.get)
        trust = sno.trust_score or 0.0
        if trust <= threshold:
            sno.status = SNOStatus.ARCHIVED
            reason = f"re-scored trust {trust:.4f} is not above the ingest threshold {threshold} (thresholds.ingest)"
            sno.metadata["archive_reason"] = reason
            critics = {name: round(r.score, 4) for name, r in result.critic_results.items()}
            archived = RescoreArchival(sno.sno_id, sno.metadata.get("source"), before, trust, reason, critics)
            report.archived.append(archived)
            log.warning("population.rescore_archived", **archived.to_dict())
        if sno.trust_score != before or sno.status is not SNOStatus.ACTIVE:
            changed.append(sno)
    for sno in changed:
        manager.store.put(sno)
    report.changed = len(changed)
    log.info(
        "population.rescored", population=len(population), changed=len(changed), archived=len(report.archived)
    )
    return report


def rescore_population(manager: CNSWorkflowManager) -> int:
    """:func:`rescore_population_report`, returning only how many SNOs changed."""
    return rescore_population_report(manager).changed


def is_synthesis(sno: StructuredNarrativeObject) -> bool:
    return "parent_ids" in sno.metadata


def find_pairs(manager: CNSWorkflowManager, *, include_syntheses: bool = True) -> PairSearchResult:
    """Search the active population for chiral pairs and record them in a SQL store.

    ``include_syntheses=False`` restricts the search to narratives that came from documents (the
    first generation): a batch report over a corpus is then the same, and as fast, on every re-run.
    """
    population = manager.population()
    if not include_syntheses:
        population = [s for s in population if not is_synthesis(s)]
    result = search_chiral_pairs(population, manager.config, nli=manager.nli, embedder=manager.embedder)
    record = getattr(manager.store, "record_pair", None)
    if record is not None:
        from cns.store.sql import PairRecord

        for pair in result.pairs:
            record(
                PairRecord(
                    pair.sno_a.sno_id,
                    pair.sno_b.sno_id,
                    pair.chirality,
                    pair.entanglement,
                    pair.potential,
                    sorted(pair.shared_evidence),
                    [c.to_dict() for c in pair.conflict_points],
                )
            )
    log.info("pairs.found", population=result.stats.population, pairs=len(result.pairs))
    return result


def synthesize_pair(manager: CNSWorkflowManager, pair: ChiralPair, *, force: bool = False) -> SynthesisResult:
    """Synthesize one pair against the live population; store the candidate, accepted or archived."""
    result = manager.synthesis_engine.synthesize(pair, manager.population(), force=force)
    if result.sno is not None:
        sno = result.sno
        sno.metadata.setdefault("parent_ids", [pair.sno_a.sno_id, pair.sno_b.sno_id])
        sno.metadata.setdefault("source", "synthesis")
        if manager.llm_unavailable is not None:  # the up-front check switched the LLM off
            sno.metadata["synthesizer_fallback"] = f"offline (llm unavailable: {manager.llm_unavailable})"[
                :1000
            ]
        if result.accepted:
            sno.status = SNOStatus.ACTIVE
        else:
            sno.status = SNOStatus.ARCHIVED
            sno.metadata["archive_reason"] = "; ".join(result.reasons)[:2000]
        manager.store.put(sno)
    return result


def run_cycle(
    manager: CNSWorkflowManager,
    *,
    rescore: bool = True,
    max_syntheses: int | None = None,
    include_syntheses: bool = True,
) -> CycleReport:
    """Re-score (optional), find pairs, and synthesize the pairs not in cooldown, best first."""
    rescored = rescore_population_report(manager) if rescore else RescoreReport()
    search = find_pairs(manager, include_syntheses=include_syntheses)
    report = CycleReport(search=search, rescored=rescored.changed, archived_at_rescore=rescored.archived)
    budget = max_syntheses if max_syntheses is not None else len(search.pairs)
    for pair in search.pairs:
        if budget <= 0:
            break
        result = synthesize_pair(manager, pair)
        report.results.append((pair, result))
        if not result.skipped:
            budget -= 1
    log.info("cycle.complete", **report.summary())
    return report


def stored_pair(manager: CNSWorkflowManager, pair_id: str) -> ChiralPair:
    """Rebuild a recorded pair (``cns synthesize PAIR_ID``, ``POST /pairs/{id}/synthesize``)."""
    from cns.errors import StoreError
    from cns.pairs import ConflictPoint

    get_pair = getattr(manager.store, "get_pair", None)
    record = get_pair(pair_id) if get_pair is not None else None
    if record is None:
        raise StoreError(f"no stored pair {pair_id!r}; run `cns pairs` first", pair_id=pair_id)
    return ChiralPair(
        manager.store.get(record.sno_a),
        manager.store.get(record.sno_b),
        record.chirality,
        record.entanglement,
        record.potential,
        frozenset(record.shared),
        [ConflictPoint(**c) for c in record.conflicts],
    )
