"""Rich renderings of SNOs for the terminal."""

from __future__ import annotations

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from cns.core.graph import ROOT_ID
from cns.core.sno import StructuredNarrativeObject


def _label(sno: StructuredNarrativeObject, node: str, relation: str | None) -> str:
    claim = sno.get_claim(node)
    prefix = escape(f"[{relation}] ") if relation else ""
    return (
        f"{prefix}{escape(claim.content)}  [dim]({escape(claim.claim_id)}, {escape(claim.claim_type)})[/dim]"
    )


def reasoning_tree(sno: StructuredNarrativeObject) -> Tree:
    """The graph as a tree rooted at the hypothesis; children are the premises pointing at a node.

    A premise that supports several conclusions appears under each; claims that reach no
    conclusion are listed under "unattached claims".
    """
    graph = sno.reasoning_graph
    tree = Tree(f"[bold]{escape(sno.central_hypothesis)}[/bold]  [dim](root)[/dim]")

    def grow(branch: Tree, node: str, path: frozenset[str]) -> None:
        for premise in sorted(graph.predecessors(node)):
            if premise in path:
                continue
            relation = graph.edges[premise, node]["reasoning_edge"].relation_type.value
            grow(branch.add(_label(sno, premise, relation)), premise, path | {premise})

    grow(tree, ROOT_ID, frozenset({ROOT_ID}))
    unattached = [n for n in graph if n != ROOT_ID and graph.out_degree(n) == 0]
    if unattached:
        loose = tree.add("[yellow]unattached claims[/yellow]")
        for node in unattached:
            grow(loose.add(_label(sno, node, None)), node, frozenset({node}))
    return tree


def trust_table(sno: StructuredNarrativeObject) -> Table:
    table = Table(title=f"trust {sno.trust_score:.3f}" if sno.trust_score is not None else "not evaluated")
    for column in ("critic", "score", "weight", "confidence", "explanation"):
        table.add_column(column)
    evaluation = sno.evaluation or {}
    weights = evaluation.get("weights_used", {})
    for name, result in (evaluation.get("critic_results") or {}).items():
        table.add_row(
            name,
            f"{result['score']:.3f}",
            f"{weights.get(name, 0):.2f}",
            f"{result['confidence']:.2f}",
            escape(result["explanation"]),
        )
    return table


def sno_panel(sno: StructuredNarrativeObject) -> Group:
    evidence = Table(title=f"evidence ({len(sno.evidence_set)})", show_lines=False)
    evidence.add_column("key")
    evidence.add_column("content")
    for item in sorted(sno.evidence_set, key=lambda e: e.key):
        evidence.add_row(escape(item.key), escape(item.content[:100]))
    return Group(
        f"[bold]SNO[/bold] {sno.sno_id}  status={sno.status.value}",
        reasoning_tree(sno),
        trust_table(sno),
        evidence,
    )
