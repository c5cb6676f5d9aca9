"""Rich renderings of SNOs for the terminal."""

from __future__ import annotations

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from cns.core.graph import ROOT_ID
from cns.core.sno import StructuredNarrativeObject
from cns.synthesis.view import is_synthesis, synthesis_view


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
            escape(name),
            f"{result['score']:.3f}",
            f"{weights.get(name, 0):.2f}",
            f"{result['confidence']:.2f}",
            escape(result["explanation"]),
        )
    return table


def synthesis_sections(sno: StructuredNarrativeObject) -> Group:
    """The synthesis as a reader sees it: sections, then numbered references."""
    view = synthesis_view(sno)
    parts: list[str] = [f"[bold]Synthesis[/bold] ({escape(str(view['synthesizer']))})"]
    for section in view["sections"]:
        parts.append(f"[underline]{escape(section['title'])}[/underline]")
        parts += [f"  {escape(sentence)}" for sentence in section["sentences"]]
    if view["references"]:
        parts.append("[underline]References[/underline]")
        parts += [
            "  " + escape(f"[{ref['n']}] {ref.get('source_id') or ref['key']}") for ref in view["references"]
        ]
    return Group(*parts)


def provenance_table(sno: StructuredNarrativeObject) -> Table:
    """Every claim of a synthesis with the source spans (document, offsets, quote) it rests on."""
    view = synthesis_view(sno)
    audit = view["provenance_audit"]
    title = (
        f"provenance: {audit.get('verified')} of {audit.get('claims')} claims traced to source spans; "
        f"hypothesis {'supported' if audit.get('hypothesis_supported') else 'NOT supported'}"
        if audit
        else "provenance: not audited"
    )
    table = Table(title=title)
    for column in ("claim", "ok", "source span", "quote"):
        table.add_column(column)
    for claim in view["claims"]:
        spans = claim["spans"] or [None]
        for i, span in enumerate(spans):
            where = "" if span is None else f"{span.get('source') or span.get('sno_id')}"
            if span is not None and span.get("start") is not None:
                where += f" [{span['start']}-{span['end']}]"
            if span is not None:
                where += f" ({span.get('match')})"
            table.add_row(
                escape(f"{claim['claim_id']}: {claim['text'][:80]}") if i == 0 else "",
                ("yes" if claim["verified"] else "[red]NO[/red]") if i == 0 else "",
                escape(where),
                escape("" if span is None else str(span.get("quote", ""))[:100]),
            )
    for dropped in audit.get("dropped", []):
        table.add_row(escape(f"{dropped['claim_id']}: {dropped['text'][:80]}"), "[red]dropped[/red]", "", "")
    return table


def sno_header(sno: StructuredNarrativeObject, *, document_id: str | None = None) -> str:
    """Id, status (with the archive reason), source file and document id of an SNO, as markup."""
    lines = [f"[bold]SNO[/bold] {escape(sno.sno_id)}  status={escape(sno.status.value)}"]
    reason = sno.metadata.get("archive_reason")
    if sno.status.value == "archived" and reason:
        lines[0] += f" [dim]({escape(str(reason))})[/dim]"
    source = sno.metadata.get("source")
    lines.append(f"[bold]file[/bold] {escape(str(source)) if source else '(none recorded)'}")
    document = document_id or sno.metadata.get("document_id")
    if document:
        lines.append(f"[bold]document[/bold] {escape(str(document))}")
    return "\n".join(lines)


def sno_panel(sno: StructuredNarrativeObject, *, document_id: str | None = None) -> Group:
    evidence = Table(title=f"evidence ({len(sno.evidence_set)})", show_lines=False)
    evidence.add_column("key")
    evidence.add_column("content")
    for item in sorted(sno.evidence_set, key=lambda e: e.key):
        evidence.add_row(escape(item.key), escape(item.content[:100]))
    parts: list[Group | Table | Tree | str] = [sno_header(sno, document_id=document_id), reasoning_tree(sno)]
    if is_synthesis(sno):
        parts += [synthesis_sections(sno), provenance_table(sno)]
    return Group(*parts, trust_table(sno), evidence)
