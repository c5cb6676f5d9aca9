"""Plots for the HTML report, rendered with matplotlib's Agg backend and inlined as data URIs or SVG."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.figure import Figure

from cns.core.graph import ROOT_ID
from cns.core.sno import StructuredNarrativeObject

_COLOURS = {"supports": "#15803d", "implies": "#1d4ed8", "explains": "#7c3aed", "generalizes": "#0e7490",
            "contradicts": "#b91c1c", "weakens": "#ea580c"}  # fmt: skip


def _png_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def trust_histograms(snos: Sequence[StructuredNarrativeObject]) -> str:
    """Trust distribution plus one histogram per critic, as one PNG data URI."""
    critics = ("grounding", "logic", "novelty")
    fig, axes = plt.subplots(1, 4, figsize=(13, 2.8), sharey=True)
    series = [[s.trust_score for s in snos if s.trust_score is not None]]
    for critic in critics:
        series.append(
            [
                float(s.evaluation["critic_results"][critic]["score"])
                for s in snos
                if s.evaluation and critic in s.evaluation.get("critic_results", {})
            ]
        )
    for ax, values, title in zip(axes, series, ("trust", *critics), strict=True):
        ax.hist(values, bins=[i / 20 for i in range(21)], color="#2563eb", edgecolor="white")
        ax.set_title(f"{title} (n={len(values)})", fontsize=10)
        ax.set_xlim(0, 1)
    axes[0].set_ylabel("SNOs")
    return _png_data_uri(fig)


def pair_scatter(
    points: Sequence[tuple[float, float, bool]], chirality_min: float, entanglement_min: float
) -> str:
    """Chirality (x) against entanglement (y) for scored candidate pairs; selected pairs highlighted."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    rest = [(c, e) for c, e, chosen in points if not chosen]
    chosen = [(c, e) for c, e, sel in points if sel]
    if rest:
        ax.scatter([c for c, _ in rest], [e for _, e in rest], s=14, c="#94a3b8", label="candidates")
    if chosen:
        ax.scatter([c for c, _ in chosen], [e for _, e in chosen], s=36, c="#dc2626", label="chiral pairs")
    ax.axvline(chirality_min, ls="--", c="#64748b", lw=1)
    ax.axhline(entanglement_min, ls="--", c="#64748b", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("chirality")
    ax.set_ylabel("entanglement")
    ax.set_title(f"{len(points)} scored pairs", fontsize=10)
    if points:
        ax.legend(loc="upper right", fontsize=8)
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
