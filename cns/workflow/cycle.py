"""One synthesis cycle over the population: re-score if it grew, find pairs, synthesize, store.

A composition of the lifecycle steps (:mod:`cns.workflow.lifecycle`) for the single-machine
edges — ``cns run``, ``cns synthesize`` without a pair id — so they walk the same path as the
service's pair sweep and ``synthesize`` jobs. With a SQL store every pair, attempt (with its
cooldown) and synthesis is persisted, so a re-run or another worker sees the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cns.core.progress import SYNTHESIS, ProgressCallback, no_progress
from cns.logging_setup import get_logger
from cns.pairs import ChiralPair, PairSearchResult
from cns.synthesis import SynthesisResult
from cns.workflow.lifecycle import (
    RescoreArchival,
    RescoreReport,
    find_and_record_pairs,
    rescore_if_due,
    synthesize_and_store,
)

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


def run_cycle(
    manager: CNSWorkflowManager,
    *,
    rescore: bool = True,
    max_syntheses: int | None = None,
    progress: ProgressCallback | None = None,
) -> CycleReport:
    """Re-score (if ``rescore`` and the population grew), find pairs, synthesize those not in
    cooldown, best first; ``max_syntheses`` caps the syntheses actually attempted.

    ``progress`` hears each step (re-score, the stages of the pair search, synthesis); the
    synthesis step counts the pairs looked at, a pair in cooldown included.
    """
    tell = progress or no_progress
    rescored = rescore_if_due(manager, progress=tell) if rescore else RescoreReport()
    search = find_and_record_pairs(manager, progress=progress)
    report = CycleReport(search=search, rescored=rescored.changed, archived_at_rescore=rescored.archived)
    budget = max_syntheses if max_syntheses is not None else len(search.pairs)
    planned = min(len(search.pairs), budget)
    tell(SYNTHESIS, 0, planned)
    for pair in search.pairs:
        if budget <= 0:
            break
        result = synthesize_and_store(manager, pair)
        report.results.append((pair, result))
        if not result.skipped:
            budget -= 1
        # a pair in cooldown costs no budget, so one more pair will be looked at
        planned = min(len(report.results) + budget, len(search.pairs))
        tell(SYNTHESIS, len(report.results), planned)
    log.info("cycle.complete", **report.summary())
    return report
