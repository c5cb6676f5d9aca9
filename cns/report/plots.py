"""Plots for the HTML report, rendered with matplotlib's Agg backend and inlined as data URIs or SVG."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cns.core.graph import ROOT_ID
from cns.core.sno import StructuredNarrativeObject
from cns.pairs.types import JudgedCandidate

_COLOURS = {"supports": "#15803d", "implies": "#1d4ed8", "explains": "#7c3aed", "generalizes": "#0e7490",
            "contradicts": "#b91c1c", "weakens": "#ea580c"}  # fmt: skip


def _png_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def data_range(
    values: Sequence[float], marks: Sequence[float] = (), *, low: float = 0.0, high: float = 1.0
) -> tuple[float, float]:
    """An axis range that fits ``values`` and the threshold ``marks`` with a margin, within [low, high].

    A fixed 0–1 axis squeezed every point of a real run into a corner (chirality 0.08–0.15); the
    axis now follows the data, and the thresholds stay visible because they are part of it.
    """
    points = [float(v) for v in (*values, *marks)]
    if not points:
        return low, high
    lo, hi = min(points), max(points)
    pad = max((hi - lo) * 0.08, 0.01)
    # the margin may pass the score's bounds: a point at exactly 0 must not sit on the axis line
    return max(low - pad, lo - pad), min(high + pad, hi + pad)


def trust_histograms(snos: Sequence[StructuredNarrativeObject], ingest_threshold: float | None = None) -> str:
    """Trust plus one histogram per critic (active and archived narratives stacked), as one PNG URI.

    Each panel's x axis spans its own data; the trust panel marks ``thresholds.ingest``.
    """
    critics = ("grounding", "logic", "novelty")
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.0), sharey=True)

    def score(sno: StructuredNarrativeObject, name: str) -> float | None:
        if name == "trust":
            return sno.trust_score
        result = (sno.evaluation or {}).get("critic_results", {}).get(name)
        return None if result is None else float(result["score"])

    for ax, name in zip(axes, ("trust", *critics), strict=True):
        groups = {
            status: [v for s in snos if s.status.value == status and (v := score(s, name)) is not None]
            for status in ("active", "archived")
        }
        values = groups["active"] + groups["archived"]
        marks = [ingest_threshold] if name == "trust" and ingest_threshold is not None else []
        lo, hi = data_range(values, marks)
        lo, hi = max(lo, 0.0), min(hi, 1.0)  # bins stay within the score's range
        bins = [lo + (hi - lo) * i / 16 for i in range(17)]
        ax.hist([groups["active"], groups["archived"]], bins=bins, stacked=True, color=["#2563eb", "#f59e0b"],
                edgecolor="white", label=["active", "archived"])  # fmt: skip
        if marks:
            ax.axvline(marks[0], ls="--", c="#b91c1c", lw=1.2, label=f"ingest threshold {marks[0]:.2f}")
        ax.set_xlim(lo, hi)
        ax.set_title(f"{name} (n={len(values)})", fontsize=10)
        ax.set_xlabel("score")
        ax.legend(loc="upper left", fontsize=7, frameon=False)
    axes[0].set_ylabel("narratives")
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    return _png_data_uri(fig)


#: colour and legend label of each outcome of a judged pair
_OUTCOMES = (
    ("paired", "#dc2626", "reported pair"),
    ("side check", "#f97316", "dropped: one side"),
    ("max pairs", "#7c3aed", "cut: population.max_pairs"),
    ("stopped", "#94a3b8", "stopped by a threshold"),
)
_PLOT_LIMIT = 3000


def _outcome(stopped_by: str | None) -> str:
    if stopped_by is None:
        return "paired"
    return stopped_by if stopped_by in ("side check", "max pairs") else "stopped"


def _plotted(judged: Sequence[JudgedCandidate]) -> list[JudgedCandidate]:
    """All judged pairs, or the reported ones and the most chiral others when there are very many."""
    if len(judged) <= _PLOT_LIMIT:
        return list(judged)
    kept = [j for j in judged if j.stopped_by in (None, "side check", "max pairs")]
    rest = sorted((j for j in judged if j.stopped_by not in (None, "side check", "max pairs")),
                  key=lambda j: -j.chirality)  # fmt: skip
    return kept + rest[: max(0, _PLOT_LIMIT - len(kept))]


def _scatter(
    ax: Axes,
    points: Sequence[JudgedCandidate],
    x: str,
    y: str,
    x_mark: tuple[str, float],
    y_mark: tuple[str, float],
) -> None:
    for outcome, colour, label in _OUTCOMES:
        for route, marker, route_label in (
            ("evidence", "o", "shared evidence"),
            ("opposition", "^", "topic neighbours"),
        ):
            chosen = [p for p in points if _outcome(p.stopped_by) == outcome and p.route == route]
            if chosen:
                ax.scatter([getattr(p, x) for p in chosen], [getattr(p, y) for p in chosen], s=36 if outcome == "paired" else 16,
                           c=colour, marker=marker, label=f"{label} ({route_label})", alpha=0.85, edgecolors="none")  # fmt: skip
    ax.axvline(x_mark[1], ls="--", c="#334155", lw=1, label=f"{x_mark[0]} = {x_mark[1]:.2f}")
    ax.axhline(y_mark[1], ls=":", c="#334155", lw=1, label=f"{y_mark[0]} = {y_mark[1]:.2f}")
    ax.set_xlim(*data_range([getattr(p, x) for p in points], [x_mark[1]]))
    ax.set_ylim(*data_range([getattr(p, y) for p in points], [y_mark[1]]))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)


def opposition_scatter(judged: Sequence[JudgedCandidate], opposition_min: float, chirality_min: float) -> str:
    """Opposition (x) against chirality (y) of every judged pair, coloured by outcome (PNG URI)."""
    points = _plotted(judged)
    fig, ax = plt.subplots(figsize=(6.5, 4.4))
    _scatter(
        ax,
        points,
        "opposition",
        "chirality",
        ("θ_O opposition", opposition_min),
        ("θ_C chirality", chirality_min),
    )
    ax.set_xlabel("opposition (how strongly the two narratives disagree)")
    ax.set_ylabel("chirality = opposition · T_A · T_B")
    ax.set_title(
        f"{len(judged)} judged pairs" + (f" ({len(points)} plotted)" if len(points) < len(judged) else ""),
        fontsize=10,
    )
    return _png_data_uri(fig)


def pair_scatter(judged: Sequence[JudgedCandidate], chirality_min: float, entanglement_min: float) -> str:
    """Chirality (x) against entanglement (y) of the judged pairs that share evidence (PNG URI)."""
    points = [p for p in _plotted(judged) if p.route == "evidence"]
    fig, ax = plt.subplots(figsize=(6.5, 4.4))
    _scatter(
        ax,
        points,
        "chirality",
        "entanglement",
        ("θ_C chirality", chirality_min),
        ("θ_E entanglement", entanglement_min),
    )
    ax.set_xlabel("chirality = opposition · T_A · T_B")
    ax.set_ylabel("entanglement (share of evidence in common)")
    ax.set_title(f"{len(points)} judged pairs that share evidence", fontsize=10)
    return _png_data_uri(fig)


def reasoning_graph_svg(sno: StructuredNarrativeObject) -> str:
    """The reasoning graph drawn left-to-right towards the hypothesis, as inline SVG markup."""
    graph = sno.reasoning_graph.copy()  # layout attributes must not leak into the SNO
    depth = dict.fromkeys(graph, 0)
    for node in reversed(list(nx.topological_sort(graph))):
        for premise in graph.predecessors(node):
            depth[premise] = max(depth[premise], depth[node] + 1)
    for node in graph:
        graph.nodes[node]["layer"] = -depth[node]
    pos = nx.multipartite_layout(graph, subset_key="layer")
    fig, ax = plt.subplots(figsize=(6.5, max(2.2, 0.45 * graph.number_of_nodes())))
    colours = ["#fde68a" if n == ROOT_ID else "#dbeafe" for n in graph]
    nx.draw_networkx_nodes(graph, pos, node_color=colours, node_size=700, edgecolors="#334155", ax=ax)
    labels = {n: ("H" if n == ROOT_ID else n.replace("claim_", "c")) for n in graph}
    nx.draw_networkx_labels(graph, pos, labels, font_size=8, ax=ax)
    for edge in sno.edges():
        nx.draw_networkx_edges(
            graph, pos, edgelist=[(edge.source, edge.target)], edge_color=_COLOURS[edge.relation_type.value],
            width=0.8 + 1.5 * edge.strength, arrows=True, arrowsize=12, node_size=700, ax=ax,
        )  # fmt: skip
    ax.axis("off")
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]
