"""The overview page's numbers and plots, and the near misses of the pairs page.

Counts come from the store's aggregate (what ``cns stats`` prints); the histograms and the
chirality-vs-entanglement plot are drawn from the stored narratives and pairs as inline SVG; the
near misses are the report's (:func:`cns.report.html.near_misses`) over the judgement kept by
:class:`~cns.web.state.WebState`.
"""

from __future__ import annotations

from typing import Any

from cns.config.settings import CNSConfig
from cns.report.html import ReportData, near_misses
from cns.services.lookup import short_id
from cns.services.queries import list_pairs
from cns.services.run import report_thresholds
from cns.store.sql import SQLStore, pair_id_for
from cns.web import svg, views
from cns.web.state import NotReady, WebState

CRITICS = ("grounding", "logic", "novelty")
SCATTER_PAIRS = 500


def overview_context(store: SQLStore, config: CNSConfig) -> dict[str, Any]:
    snos = store.list()
    thresholds = report_thresholds(config)
    trust = [s.trust_score for s in snos if s.trust_score is not None]
    plots = [
        svg.histogram("trust", trust, threshold=thresholds["ingest"], threshold_label="thresholds.ingest")
    ]
    for critic in CRITICS:
        values = [
            float(r["score"])
            for s in snos
            if (r := ((s.evaluation or {}).get("critic_results") or {}).get(critic)) is not None
        ]
        plots.append(svg.histogram(critic, values))
    pairs = list_pairs(store, limit=SCATTER_PAIRS, offset=0)
    names = views.labels(store, sorted({p[k] for p in pairs.items for k in ("sno_a", "sno_b")}))
    points = [
        svg.Point(p["chirality"], p["entanglement"], f"{names[p['sno_a']]} ↔ {names[p['sno_b']]}",
                  f"/ui/pairs/{short_id(p['pair_id'])}")
        for p in pairs.items
    ]  # fmt: skip
    scatter = svg.scatter(
        "stored chiral pairs",
        points,
        x_label="chirality",
        y_label="entanglement",
        x_threshold=thresholds["chirality"],
        y_threshold=thresholds["entanglement"],
    )
    return {
        "counts": store.counts(),
        "plots": plots,
        "scatter": scatter,
        "thresholds": thresholds,
        "jobs": views.recent_jobs(store),
    }


def near_miss_rows(state: WebState, store: SQLStore, config: CNSConfig) -> list[dict[str, Any]] | str | None:
    """Per rule, the judged pairs it stopped that came closest to passing; None without models
    here, a sentence while the search is still running."""
    try:
        judged = state.judged(store)
    except NotReady as exc:
        return str(exc)
    if judged is None:
        return None
    population, search = judged
    data = ReportData("", population, (), judged=search.judged, thresholds=report_thresholds(config))
    rows = []
    for rule, setting, stopped, misses in near_misses(data):
        rows.append(
            {
                "rule": rule,
                "setting": setting,
                "stopped": stopped,
                "misses": [
                    {
                        "file_a": m.file_a,
                        "file_b": m.file_b,
                        "value": m.value,
                        "threshold": m.threshold,
                        "pair_id": pair_id_for(m.pair.sno_a, m.pair.sno_b),
                        "sno_a": m.pair.sno_a,
                        "sno_b": m.pair.sno_b,
                    }
                    for m in misses
                ],
            }
        )
    return rows
