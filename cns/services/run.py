"""``cns run``: from a folder of documents to a report, on one machine.

Ingest everything (each document committed as soon as it is evaluated), re-score the population
so novelty does not depend on input order, find chiral pairs, synthesize the pairs that are not
in cooldown, and write ``report.html``, ``snos.jsonl``, ``pairs.jsonl`` and graph exports.
Before any document is read, the configured LLM is checked once (:mod:`cns.services.llm_gate`):
unreachable means one message and the offline path (or a stop, ``llm.on_unavailable: fail``),
never minutes of per-document retries.
Interrupting it loses nothing already stored; running it again skips what is done (documents are
duplicates, pairs in cooldown keep their earlier synthesis), which is what makes a re-run fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cns.config import CNSConfig
from cns.core.progress import ProgressCallback
from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError
from cns.logging_setup import get_logger
from cns.pairs import ChiralPair
from cns.report import PairView, ReportData
from cns.report.outputs import LastSynthesis, stored_pair_views, write_outputs
from cns.services.llm_gate import LLMGate, gate_llm
from cns.services.runtime import Runtime
from cns.store.sql import pair_id_for
from cns.synthesis import SynthesisResult
from cns.workflow.cycle import CycleReport
from cns.workflow.report import IngestReport

log = get_logger(__name__)
SCATTER_LIMIT = 200


@dataclass
class RunSummary:
    """What a run did and where it wrote its outputs."""

    ingest: IngestReport
    cycle: CycleReport
    out_dir: Path
    seconds: dict[str, float] = field(default_factory=dict)
    llm: LLMGate = field(default_factory=lambda: LLMGate("none", ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "llm": self.llm.label,
            "ingest": {k: v for k, v in self.ingest.summary().items() if isinstance(v, int)},
            "skipped": len(self.ingest.skipped),
            "failed": len(self.ingest.failed),
            **self.cycle.summary(),
            "out_dir": str(self.out_dir),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _earlier_synthesis(rt: Runtime, pair: ChiralPair) -> tuple[StructuredNarrativeObject | None, list[str]]:
    """The synthesis stored by an earlier run for a pair now in cooldown (shown in the report)."""
    last = rt.store.last_attempt(pair_id_for(pair.sno_a.sno_id, pair.sno_b.sno_id))
    if last is None or last.result_sno_id is None:
        return None, [str(r) for r in (last.reasons if last else [])]
    try:
        return rt.store.get(last.result_sno_id), [str(r) for r in last.reasons]
    except SNONotFoundError:
        return None, []


def _pair_view(rt: Runtime, pair: ChiralPair, result: SynthesisResult | None) -> PairView:
    sno, reasons = (result.sno, list(result.reasons)) if result is not None else (None, [])
    accepted = result.accepted if result is not None else False
    if result is not None and result.skipped:
        sno, reasons = _earlier_synthesis(rt, pair)
        accepted = sno is not None and sno.metadata.get("accepted") is True
    metrics = dict(result.metrics) if result is not None else {}
    return PairView.of(pair, synthesis=sno, accepted=accepted, reasons=reasons, metrics=metrics)


def run_pipeline(
    rt: Runtime,
    paths: Sequence[Path],
    out_dir: Path,
    *,
    ingest: Callable[[Runtime, Sequence[Path]], IngestReport] | None = None,
    max_syntheses: int | None = None,
    notify: Callable[[str], None] | None = None,
    progress: ProgressCallback | None = None,
) -> RunSummary:
    """The whole single-machine job; ``ingest`` lets the CLI plug in its progress bar.

    The population is re-scored when it grew since the last re-score, then pairs are searched
    among the corpus's own narratives unless ``population.pair_syntheses`` (earlier accepted
    syntheses then take part, which grows the population by a generation per run) — the same
    lifecycle the service runs (:mod:`cns.workflow.lifecycle`). ``notify`` receives the one line
    about an unusable LLM (the CLI prints it); ``progress`` hears re-score, pair search and
    synthesis as they go (the CLI's bars).
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    gate = gate_llm(rt.manager)
    if gate.message:
        if notify is not None:
            notify(gate.message)
        else:
            log.warning("run.llm_unusable", status=gate.status, message=gate.message)
    seconds["llm_check"] = time.perf_counter() - clock
    clock = time.perf_counter()
    report = ingest(rt, paths) if ingest is not None else rt.manager.ingest_paths(list(paths))
    seconds["ingest"] = time.perf_counter() - clock
    clock = time.perf_counter()
    cycle = rt.manager.run_cycle(max_syntheses=max_syntheses, progress=progress)
    seconds["pairs_and_synthesis"] = time.perf_counter() - clock
    clock = time.perf_counter()
    snos = rt.store.list()
    views = [_pair_view(rt, pair, result) for pair, result in cycle.results]
    data = ReportData(
        title="CNS run report",
        snos=snos,
        pairs=views,
        judged=cycle.search.judged,  # the search's own scores: the report adds no model call
        thresholds=report_thresholds(rt.config),
        summary={
            "documents skipped": len(report.skipped),
            "failed": len(report.failed),
            "archived at ingest": len(report.archived),
            "archived at re-score": len(cycle.archived_at_rescore),
        },
        skipped=[(s.path, s.reason) for s in report.skipped] + [(f.source, f.reason) for f in report.failed],
        rescore_archived=[(a.source or a.sno_id, a.reason) for a in cycle.archived_at_rescore],
    )
    write_outputs(data, out_dir, svg_cache=svg_cache_dir(rt.config))
    seconds["report"] = time.perf_counter() - clock
    summary = RunSummary(report, cycle, out_dir, seconds, gate)
    log.info("run.complete", **{k: v for k, v in summary.to_dict().items() if k != "seconds"})
    return summary


def report_thresholds(config: CNSConfig) -> dict[str, float]:
    """The thresholds the report draws and judges near misses by."""
    pair_th, th = config.synthesis_thresholds, config.thresholds
    return {
        "opposition": pair_th.opposition,
        "chirality": pair_th.chirality,
        "entanglement": pair_th.entanglement,
        "potential": pair_th.potential,
        "ingest": th.ingest,
        "synthesis": th.synthesis,
    }


def svg_cache_dir(config: CNSConfig) -> Path:
    """Where drawn reasoning graphs are kept for the next report."""
    return config.data_dir / "cache" / "graphs"


def store_report_data(rt: Runtime, *, title: str = "CNS report (from the store)") -> ReportData:
    """Everything stored, as a report: every SNO, every stored pair with its newest synthesis attempt.

    Nothing is re-run: no pair search (so the report has no plot of judged pairs and no near
    misses; those exist only for the run that judged them) and no model call.
    """
    snos = rt.store.list()
    last: dict[str, LastSynthesis] = {}
    rows = [pair.to_dict() for pair in rt.store.list_pairs()]
    for row in rows:
        attempt = rt.store.last_attempt(row["pair_id"])
        if attempt is not None and attempt.finished_at is not None:
            last[row["pair_id"]] = LastSynthesis(
                attempt.result_sno_id, attempt.accepted is True, [str(r) for r in attempt.reasons]
            )
    views, _ = stored_pair_views(rows, {s.sno_id: s for s in snos}, last)
    archived = sum(1 for s in snos if s.status.value == "archived")
    return ReportData(
        title=title,
        snos=snos,
        pairs=views,
        thresholds=report_thresholds(rt.config),
        summary={"narratives": len(snos), "archived": archived, "stored pairs": len(rows)},
    )
