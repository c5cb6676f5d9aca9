"""Graph exports: Mermaid (renders on GitHub and in most Markdown viewers) and GraphML (Gephi, yEd)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import networkx as nx

from cns.core.sno import StructuredNarrativeObject

_ARROWS = {
    "supports": "-->|supports|",
    "implies": "==>|implies|",
    "explains": "-.->|explains|",
    "generalizes": "-.->|generalizes|",
    "contradicts": "--x|contradicts|",
    "weakens": "--x|weakens|",
}


def _mermaid_text(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _node_id(claim_id: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", claim_id)


def sno_to_mermaid(sno: StructuredNarrativeObject) -> str:
    """A Mermaid ``flowchart`` of the reasoning graph (premise → conclusion, root emphasised)."""
    lines = ["flowchart BT"]
    for claim in sno.claims():
        shape = ('(["', '"])') if claim.claim_id == "root" else ('["', '"]')
        lines.append(f"    {_node_id(claim.claim_id)}{shape[0]}{_mermaid_text(claim.content)}{shape[1]}")
    for edge in sno.edges():
        arrow = _ARROWS[edge.relation_type.value]
        lines.append(f"    {_node_id(edge.source)} {arrow} {_node_id(edge.target)}")
    lines.append("    classDef root fill:#fde68a,stroke:#b45309;")
    lines.append(f"    class {_node_id('root')} root;")
    return "\n".join(lines) + "\n"


def sno_to_graphml(sno: StructuredNarrativeObject, path: Path) -> None:
    """Write the reasoning graph as GraphML with plain string/float attributes."""
    graph: nx.DiGraph[str] = nx.DiGraph(sno_id=sno.sno_id, hypothesis=sno.central_hypothesis)
    for claim in sno.claims():
        graph.add_node(
            claim.claim_id, content=claim.content, claim_type=claim.claim_type, confidence=claim.confidence
        )
    for edge in sno.edges():
        graph.add_edge(edge.source, edge.target, relation=edge.relation_type.value, strength=edge.strength)
    tmp = path.with_suffix(path.suffix + ".tmp")
    nx.write_graphml(graph, tmp)
    tmp.replace(path)


def write_graph_exports(snos: Iterable[StructuredNarrativeObject], out_dir: Path) -> int:
    """One ``<sno_id>.mmd`` and one ``<sno_id>.graphml`` per SNO under ``out_dir``; returns the count."""
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for sno in snos:
        (out_dir / f"{sno.sno_id}.mmd").write_text(sno_to_mermaid(sno), encoding="utf-8")
        sno_to_graphml(sno, out_dir / f"{sno.sno_id}.graphml")
        count += 1
    return count
