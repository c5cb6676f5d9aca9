"""The output folder of a run, written the same way whoever has the data.

``cns run`` (from the pairs it just found), ``cns report`` and ``cns export`` (from the local
store) and ``cns run --api`` (from what the service serves: ``GET /snos``, ``GET /pairs``,
``GET /syntheses``) all end here, so ``report.html``, ``snos.jsonl``, ``pairs.jsonl`` and
``graphs/`` have one shape. Pairs read back from a store or an API arrive in the one pair shape
(:func:`~cns.core.pair_json.pair_json`); :func:`stored_pair_views` joins them to their two
narratives and to the newest synthesis attempt of each pair.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cns.core.sno import StructuredNarrativeObject
from cns.report.atomic import write_text_atomic
from cns.report.exports import write_graph_exports
from cns.report.html import PairView, ReportData, write_report


@dataclass(frozen=True)
class LastSynthesis:
    """The newest synthesis attempt of a pair: the SNO it produced (if any), accepted or not, why."""

    sno_id: str | None
    accepted: bool
    reasons: Sequence[str] = ()


@dataclass(frozen=True)
class WrittenOutputs:
    """What :func:`write_outputs` wrote (counts and the files)."""

    snos: int
    pairs: int
    graphs: int
    files: tuple[Path, ...]


def stored_pair_views(
    pair_rows: Sequence[Mapping[str, Any]],
    snos: Mapping[str, StructuredNarrativeObject],
    last: Mapping[str, LastSynthesis],
) -> tuple[list[PairView], list[str]]:
    """Pairs in the one pair shape as report views, and the ids of pairs a side of which is missing.

    ``snos`` maps every known SNO id to its SNO (syntheses included); ``last`` maps pair ids to
    their newest synthesis attempt. A pair whose narrative was deleted since cannot be shown: its
    id is returned so the caller can say so.
    """
    views: list[PairView] = []
    missing: list[str] = []
    for row in pair_rows:
        a, b = snos.get(str(row["sno_a"])), snos.get(str(row["sno_b"]))
        if a is None or b is None:
            missing.append(str(row["pair_id"]))
            continue
        attempt = last.get(str(row["pair_id"]))
        synthesis = snos.get(attempt.sno_id) if attempt is not None and attempt.sno_id else None
        views.append(
            PairView(
                a,
                b,
                float(row["chirality"]),
                float(row["entanglement"]),
                float(row["potential"]),
                list(row.get("shared_evidence") or []),
                list(row.get("conflict_points") or []),
                synthesis=synthesis,
                synthesis_accepted=bool(attempt and attempt.accepted and synthesis is not None),
                synthesis_reasons=[str(r) for r in attempt.reasons] if attempt is not None else [],
                opposition=float(row.get("opposition") or 0.0),
                source=str(row.get("source") or "evidence"),
                evidence_matches=list(row.get("evidence_matches") or []),
                found_at=datetime.fromisoformat(row["found_at"]) if row.get("found_at") else None,
            )
        )
    return views, missing


def write_jsonl_rows(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """One JSON object per line, written atomically."""
    write_text_atomic(path, "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows))


def write_outputs(
    data: ReportData, out_dir: Path, *, html: bool = True, svg_cache: Path | None = None
) -> WrittenOutputs:
    """Write ``report.html`` (unless ``html`` is false), ``snos.jsonl``, ``pairs.jsonl`` and ``graphs/``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if html:
        files.append(write_report(data, out_dir / "report.html", svg_cache=svg_cache))
    write_jsonl_rows(out_dir / "snos.jsonl", [s.to_dict() for s in data.snos])
    write_jsonl_rows(out_dir / "pairs.jsonl", [v.to_dict() for v in data.pairs])
    graphs = write_graph_exports(data.snos, out_dir / "graphs")
    files += [out_dir / "snos.jsonl", out_dir / "pairs.jsonl", out_dir / "graphs"]
    return WrittenOutputs(len(data.snos), len(data.pairs), graphs, tuple(files))
