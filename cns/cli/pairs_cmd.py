"""``cns pairs``, ``cns why`` and ``cns synthesize``: chiral pairs over the local store."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cns.cli.common import DataDirOption, TopicPairsOption, check_llm_once, lookup_errors, runtime
from cns.cli.output import out
from cns.cli.progress import ProgressDisplay
from cns.core.pair_json import pair_files
from cns.pairs import ChiralPair
from cns.pairs.explain import PairExplanation
from cns.services.lookup import file_label, resolve, resolve_narrative, short_id
from cns.workflow.lifecycle import explain, rebuild_pair

ROUTES = {"evidence": "shared evidence", "opposition": "topic neighbours"}


def pair_row(pair: ChiralPair) -> dict[str, Any]:
    """The JSON of a pair for ``cns pairs --json``: the one pair shape, the files and hypotheses."""
    return {
        **pair.to_dict(),
        **pair_files(pair.sno_a.metadata, pair.sno_b.metadata),
        "hypothesis_a": pair.sno_a.central_hypothesis,
        "hypothesis_b": pair.sno_b.central_hypothesis,
    }


def pairs(
    min_chirality: Annotated[
        float | None, typer.Option(help="list only pairs with at least this chirality")
    ] = None,
    top: Annotated[int | None, typer.Option(min=1, help="list at most this many pairs (best first)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list instead of a table")] = False,
    topic_pairs: TopicPairsOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Search the active population for chiral pairs (recorded in the store) and list them.

    Pairs that share evidence come first (by synthesis potential), then pairs of topic
    neighbours that cite no common source (by chirality; `--no-topic-pairs` leaves them out).
    `cns why A B` explains why two documents were or were not paired.
    """
    with runtime(data_dir, topic_pairs=topic_pairs) as rt, ProgressDisplay() as progress:
        result = rt.manager.find_pairs(progress=progress)
    found = [p for p in result.pairs if min_chirality is None or p.chirality >= min_chirality]
    shown = found[:top] if top is not None else found
    if as_json:
        typer.echo(json.dumps([pair_row(p) for p in shown], ensure_ascii=False, indent=2, default=str))
        return
    title = f"{len(result.pairs)} chiral pairs in a population of {result.stats.population}"
    if len(shown) < len(result.pairs):
        title += f" ({len(shown)} shown)"
    table = Table(title=title)
    for column in (
        "pair id",
        "C",
        "E",
        "P",
        "O",
        "found by",
        "file A",
        "file B",
        "hypothesis A",
        "hypothesis B",
    ):
        table.add_column(column)
    for pair in shown:
        table.add_row(
            short_id(pair.to_dict()["pair_id"]),
            f"{pair.chirality:.3f}",
            f"{pair.entanglement:.3f}",
            f"{pair.potential:.3f}",
            f"{pair.opposition:.3f}",
            ROUTES.get(pair.source, pair.source),
            escape(file_label(pair.sno_a.metadata.get("source"))),
            escape(file_label(pair.sno_b.metadata.get("source"))),
            escape(pair.sno_a.central_hypothesis[:60]),
            escape(pair.sno_b.central_hypothesis[:60]),
        )
    Console(width=220).print(table)
    if result.stats.same_side_dropped:
        Console(width=220).print(
            f"[dim]{result.stats.same_side_dropped} opposed-looking pairs were dropped by the side check "
            "(both narratives on one side of their question); `cns why A B` shows one[/dim]"
        )


def _side_lines(ex: PairExplanation) -> list[str]:
    lines = []
    for label, sno in (("A", ex.sno_a), ("B", ex.sno_b)):
        trust = "none" if sno.trust_score is None else f"{sno.trust_score:.3f}"
        lines.append(
            f"[bold]{label}[/bold] {short_id(sno.sno_id)}  {escape(str(sno.metadata.get('source') or '(no file)'))}"
            f"  trust {trust}  status {sno.status.value}"
        )
        lines.append(f"    {escape(sno.central_hypothesis)}")
    return lines


def _parts_line(parts: dict[str, Any]) -> str:
    if "hypothesis" not in parts:
        return ", ".join(f"{k} {v}" for k, v in parts.items())
    contrast = parts.get("contrast")
    beyond_self = (
        ""
        if contrast is None
        else f", contradiction beyond each side's own {contrast:+.3f} → weight {parts['contrast_gate']:.3f}"
    )
    return (
        f"hypothesis pair {parts['hypothesis']:+.3f}, strongest claim pairs {parts['claims']:+.3f}{beyond_self}, "
        f"opposite stance toward shared evidence {parts['evidence']:.3f}, topic similarity "
        f"{parts['topic']:.3f} → gate {parts['gate']:.3f} ({parts['statement_pairs']} statement pairs judged)"
    )


def why(
    first: Annotated[str, typer.Argument(help="SNO id, document id (unique prefixes) or file name")],
    second: Annotated[str, typer.Argument(help="the other narrative, given the same way")],
    as_json: Annotated[bool, typer.Option("--json", help="print the explanation as JSON")] = False,
    topic_pairs: TopicPairsOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Explain why two documents were or were not paired: shared evidence, opposition and its
    parts, topic gate, trust, and the threshold that stopped them (runs the `cns pairs` search)."""
    with runtime(data_dir, topic_pairs=topic_pairs) as rt:
        with lookup_errors():
            a, b = resolve_narrative(rt.store, first), resolve_narrative(rt.store, second)
        if a.id == b.id:
            out().error(f"[red]error:[/red] both name the same narrative {escape(a.id)}", event="why.same")
            raise typer.Exit(code=1)
        with ProgressDisplay() as progress:
            ex = explain(rt.manager, a.id, b.id, progress=progress)
    if as_json:
        typer.echo(json.dumps(ex.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    console = Console(width=160)
    colour = "green" if ex.paired else "red"
    console.print(f"[bold {colour}]{escape(ex.verdict)}[/bold {colour}]")
    for line in _side_lines(ex):
        console.print(line)
    console.print(f"[bold]shared evidence[/bold] ({len(ex.matches)}; entanglement E = {ex.entanglement:.4f})")
    for m in ex.matches:
        what = (
            escape(m.key_a) if m.kind == "key" else f"{escape(m.key_a)} ≈ {escape(m.key_b)} (p {m.score:.2f})"
        )
        console.print(f"    {m.kind}: {what}")
    if not ex.matches:
        console.print("    none: no citation key in common and no evidence items stating the same fact")
    route = {"evidence": "shared evidence", "opposition": "topic neighbours (no shared evidence)"}
    console.print(f"[bold]found by[/bold] {route.get(ex.route or '', 'neither route')}")
    if ex.route == "opposition" and ex.neighbour_ranks[0] is not None:
        console.print(
            f"    topic-neighbour rank: B is {ex.neighbour_ranks[0]} of A's, A is {ex.neighbour_ranks[1]} of B's "
            f"(the search looks at the {ex.neighbours} nearest)"
        )
    console.print(f"[bold]opposition[/bold] {ex.opposition:.4f}: {escape(_parts_line(ex.parts))}")
    console.print(
        f"[bold]chirality[/bold] {ex.chirality:.4f} = opposition · T_A · T_B; [bold]potential[/bold] {ex.potential:.4f}"
    )
    console.print(
        "[bold]thresholds[/bold]" + ("" if ex.checks else " none apply: the pair was never a candidate")
    )
    for check in ex.checks:
        mark = "[green]pass[/green]" if check.passed else "[red]FAIL[/red]"
        console.print(f"    {mark} {escape(check.describe())}")
    for note in ex.notes:
        console.print(f"[dim]note: {escape(note)}[/dim]")


def synthesize(
    pair_id: Annotated[
        str | None, typer.Argument(help="a pair id from `cns pairs` (any unique prefix)")
    ] = None,
    force: Annotated[bool, typer.Option(help="ignore the cooldown of a pair tried recently")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Synthesize one stored pair, or every pair not in cooldown when no id is given."""
    console = Console()
    with runtime(data_dir) as rt:
        if pair_id is None:
            check_llm_once(rt)
            with ProgressDisplay() as progress:
                report = rt.manager.run_cycle(rescore=False, progress=progress)
            outcomes = report.results
        else:
            with lookup_errors():
                match = resolve(rt.store, "pair", pair_id)
            check_llm_once(rt)
            pair = rebuild_pair(rt.store, match.id)
            outcomes = [(pair, rt.manager.synthesize_pair(pair, force=force))]
    for pair, result in outcomes:
        verdict = "skipped" if result.skipped else ("accepted" if result.accepted else "rejected")
        trust = result.metrics.get("trust")
        files = f"{file_label(pair.sno_a.metadata.get('source'))} ↔ {file_label(pair.sno_b.metadata.get('source'))}"
        console.print(
            f"[bold]{verdict}[/bold] {short_id(pair.to_dict()['pair_id'])} ({escape(files)})"
            + (f" T={trust:.3f}" if isinstance(trust, float) else "")
        )
        if result.sno is not None:
            console.print(f"  {short_id(result.sno.sno_id)}  {escape(result.sno.central_hypothesis)}")
        for reason in result.reasons[:3]:
            console.print(f"  - {escape(str(reason))}")


def register(app: typer.Typer) -> None:
    app.command("pairs")(pairs)
    app.command("why")(why)
    app.command("synthesize")(synthesize)
