"""The self-contained HTML report of a run (Jinja2, autoescaped; plots inlined, no external assets).

It opens with how to read it and a legend of every score, then shows the summary, the trust and
per-critic distributions, every judged pair plotted by opposition, chirality and entanglement
(axes fitted to the data), the near misses under each threshold, and every chiral pair with both narratives side by side, the shared evidence, the
conflict points and the synthesis (accepted or not, with the critics' reasons): its sections, its
numbered references and the provenance of every claim (the source spans it rests on).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cns.core.ids import pair_id_for
from cns.core.pair_json import pair_files, pair_json
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.pairs.types import ChiralPair, JudgedCandidate
from cns.pairs.verdict import SETTING
from cns.report.atomic import write_text_atomic
from cns.report.exports import sno_to_mermaid
from cns.report.plots import opposition_scatter, pair_scatter, reasoning_graph_svg, trust_histograms
from cns.synthesis.view import is_synthesis, synthesis_view
from cns.version import __version__


@dataclass(frozen=True)
class PairView:
    """What the report needs to know about one chiral pair and its synthesis.

    :meth:`to_dict` is the row of ``pairs.jsonl``: the one pair shape
    (:func:`~cns.core.pair_json.pair_json`, which starts with the ``pair_id`` that
    ``cns synthesize`` takes), the two files, then the pair's synthesis.
    """

    sno_a: StructuredNarrativeObject
    sno_b: StructuredNarrativeObject
    chirality: float
    entanglement: float
    potential: float
    shared_evidence: Sequence[str]
    conflict_points: Sequence[dict[str, Any]]
    synthesis: StructuredNarrativeObject | None = None
    synthesis_accepted: bool = False
    synthesis_reasons: Sequence[str] = ()
    synthesis_metrics: dict[str, Any] = field(default_factory=dict)
    opposition: float = 0.0
    source: str = "evidence"
    evidence_matches: Sequence[dict[str, Any]] = ()
    found_at: datetime | None = None  # when the store recorded the pair (None: just found, not read back)

    @classmethod
    def of(
        cls,
        pair: ChiralPair,
        *,
        synthesis: StructuredNarrativeObject | None = None,
        accepted: bool = False,
        reasons: Sequence[str] = (),
        metrics: dict[str, Any] | None = None,
    ) -> PairView:
        """The view of a pair found by the search, with its synthesis (if any)."""
        record = pair.to_dict()
        return cls(
            pair.sno_a,
            pair.sno_b,
            pair.chirality,
            pair.entanglement,
            pair.potential,
            record["shared_evidence"],
            record["conflict_points"],
            synthesis=synthesis,
            synthesis_accepted=accepted,
            synthesis_reasons=list(reasons),
            synthesis_metrics=dict(metrics or {}),
            opposition=pair.opposition,
            source=pair.source,
            evidence_matches=record["evidence_matches"],
        )

    @property
    def pair_id(self) -> str:
        return pair_id_for(self.sno_a.sno_id, self.sno_b.sno_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON row of this pair: the one pair shape, the two files, then its synthesis."""
        return {
            **pair_json(
                sno_a=self.sno_a.sno_id,
                sno_b=self.sno_b.sno_id,
                chirality=self.chirality,
                entanglement=self.entanglement,
                potential=self.potential,
                opposition=self.opposition,
                source=self.source,
                shared_evidence=self.shared_evidence,
                evidence_matches=self.evidence_matches,
                conflict_points=self.conflict_points,
                found_at=self.found_at,
            ),
            **pair_files(self.sno_a.metadata, self.sno_b.metadata),
            "synthesis_sno_id": None if self.synthesis is None else self.synthesis.sno_id,
            "synthesis_accepted": self.synthesis_accepted,
            "synthesis_reasons": list(self.synthesis_reasons),
            "synthesis": None if self.synthesis is None else synthesis_view(self.synthesis),
        }


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows.

    ``judged`` are the pairs the search scored, each with what stopped it (the plots and the near
    misses); ``thresholds`` are the configured ``opposition``, ``chirality``, ``entanglement``,
    ``potential`` (``synthesis_thresholds``) and ``ingest`` and ``synthesis`` (``thresholds``);
    ``rescore_archived`` lists ``(file or id, reason)`` of the narratives archived when the
    population was re-scored in this run.
    """

    title: str
    snos: Sequence[StructuredNarrativeObject]
    pairs: Sequence[PairView]
    judged: Sequence[JudgedCandidate] = ()
    thresholds: dict[str, float] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    skipped: Sequence[tuple[str, str]] = ()
    rescore_archived: Sequence[tuple[str, str]] = ()


#: how many near misses the report lists under each rule
NEAR_MISSES = 5
#: the rules in the order the report lists their near misses, with the value each is judged on
_RULES = (
    ("topic gate", "relevance"),
    ("opposition", "opposition"),
    ("chirality", "chirality"),
    ("entanglement", "entanglement"),
    ("potential", "potential"),
    ("side check", "chirality"),
    ("max pairs", "potential"),
)


@dataclass(frozen=True)
class NearMiss:
    """A judged pair that one rule stopped, with the value that rule looked at."""

    pair: JudgedCandidate
    value: float
    threshold: float | None
    file_a: str
    file_b: str


def near_misses(data: ReportData) -> list[tuple[str, str, int, list[NearMiss]]]:
    """Per rule: (rule, config key, how many pairs it stopped, the closest ones to passing).

    Closest means the highest value under a threshold; for the side check and the cap on pairs,
    which stop pairs that passed every threshold, the highest chirality / potential.
    """
    files = {s.sno_id: file_label(s) for s in data.snos}
    out: list[tuple[str, str, int, list[NearMiss]]] = []
    for rule, attribute in _RULES:
        stopped = [j for j in data.judged if j.stopped_by == rule]
        if rule == "topic gate":  # every one of them has gate 0: none is closer to passing than another
            out.append((rule, SETTING[rule], len(stopped), []))
            continue
        stopped.sort(key=lambda j: (-float(getattr(j, attribute)), j.key))
        threshold = data.thresholds.get(rule)
        rows = [
            NearMiss(j, float(getattr(j, attribute)), threshold, files.get(j.sno_a, j.sno_a[:12]),
                     files.get(j.sno_b, j.sno_b[:12]))
            for j in stopped[:NEAR_MISSES]
        ]  # fmt: skip
        out.append((rule, SETTING[rule], len(stopped), rows))
    return out


def file_label(sno: StructuredNarrativeObject) -> str:
    """The name of the file a narrative came from (its title, then its id, when there is none)."""
    if is_synthesis(sno):
        return f"synthesis {sno.sno_id[:12]}"
    source = sno.metadata.get("source")
    if source:
        return PurePath(str(source)).name or str(source)
    title = sno.metadata.get("title")
    return str(title) if title else sno.sno_id[:12]


def _critic_scores(sno: StructuredNarrativeObject) -> dict[str, float]:
    results = (sno.evaluation or {}).get("critic_results", {})
    return {name: float(r["score"]) for name, r in results.items()}


def _cached_svg(cache_dir: Path | None) -> Callable[[StructuredNarrativeObject], str]:
    """Draw a reasoning graph, reusing the SVG saved for the same graph content by an earlier run."""

    def draw(sno: StructuredNarrativeObject) -> str:
        if cache_dir is None:
            return reasoning_graph_svg(sno)
        path = cache_dir / f"{sno.content_hash()[:32]}.svg"
        if path.is_file():
            return path.read_text(encoding="utf-8")
        svg = reasoning_graph_svg(sno)
        write_text_atomic(path, svg)
        return svg

    return draw


def _environment(svg_cache: Path | None = None) -> Environment:
    env = Environment(
        loader=PackageLoader("cns.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = lambda v, digits=3: "–" if v is None else f"{float(v):.{digits}f}"
    env.globals["critic_scores"] = _critic_scores
    env.globals["graph_svg"] = _cached_svg(svg_cache)
    env.globals["mermaid"] = sno_to_mermaid
    env.globals["synthesis_view"] = synthesis_view
    env.globals["file_label"] = file_label
    return env


def render_report(data: ReportData, *, svg_cache: Path | None = None) -> str:
    """The report as one HTML string; ``svg_cache`` keeps drawn graphs for the next render."""
    active = [s for s in data.snos if s.status is SNOStatus.ACTIVE]
    archived = [s for s in data.snos if s.status is SNOStatus.ARCHIVED]
    template = _environment(svg_cache).get_template("report.html.j2")
    th = data.thresholds
    return template.render(
        data=data,
        active=active,
        archived=archived,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        trust_plot=trust_histograms(data.snos, th.get("ingest")),
        opposition_plot=opposition_scatter(data.judged, th.get("opposition", 0.0), th.get("chirality", 0.0)),
        scatter_plot=pair_scatter(data.judged, th.get("chirality", 0.0), th.get("entanglement", 0.0)),
        near_misses=near_misses(data),
        accepted=sum(1 for p in data.pairs if p.synthesis_accepted),
    )


def write_report(data: ReportData, path: Path, *, svg_cache: Path | None = None) -> Path:
    """Render, then write atomically (:func:`~cns.report.atomic.write_text_atomic`)."""
    return write_text_atomic(path, render_report(data, svg_cache=svg_cache))
