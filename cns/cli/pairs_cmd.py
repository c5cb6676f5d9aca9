"""``cns pairs`` and ``cns synthesize``: chiral pairs and their synthesis over the local store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cns.cli.common import DataDirOption, check_llm_once, runtime
from cns.store.sql import pair_id_for
from cns.workflow.lifecycle import rebuild_pair


def pairs(data_dir: DataDirOption = None) -> None:
    """Search the active population for chiral pairs (recorded in the store) and list them."""
    with runtime(data_dir) as rt:
        result = rt.manager.find_pairs()
    table = Table(title=f"{len(result.pairs)} chiral pairs in a population of {result.stats.population}")
    for column in ("pair id", "C", "E", "P", "shared", "hypothesis A", "hypothesis B"):
        table.add_column(column)
    for pair in result.pairs:
        table.add_row(
            pair_id_for(pair.sno_a.sno_id, pair.sno_b.sno_id)[:16],
            f"{pair.chirality:.3f}",
            f"{pair.entanglement:.3f}",
            f"{pair.potential:.3f}",
            str(len(pair.shared_evidence)),
            pair.sno_a.central_hypothesis[:60],
            pair.sno_b.central_hypothesis[:60],
        )
    Console(width=200).print(table)


def synthesize(
    pair_id: Annotated[str | None, typer.Argument(help="a pair id from `cns pairs` (prefix allowed)")] = None,
    force: Annotated[bool, typer.Option(help="ignore the cooldown of a pair tried recently")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Synthesize one stored pair, or every pair not in cooldown when no id is given."""
    console = Console()
    with runtime(data_dir) as rt:
        check_llm_once(rt, Console(stderr=True))
        if pair_id is None:
            report = rt.manager.run_cycle(rescore=False)
            outcomes = report.results
        else:
            matches = [p.pair_id for p in rt.store.list_pairs() if p.pair_id.startswith(pair_id)]
            if len(matches) != 1:
                console.print(
                    f"[red]{len(matches)} stored pairs match {pair_id!r}; give a longer prefix[/red]"
                )
                raise typer.Exit(code=1)
            pair = rebuild_pair(rt.store, matches[0])
            outcomes = [(pair, rt.manager.synthesize_pair(pair, force=force))]
    for pair, result in outcomes:
        verdict = "skipped" if result.skipped else ("accepted" if result.accepted else "rejected")
        trust = result.metrics.get("trust")
        console.print(
            f"[bold]{verdict}[/bold] {pair_id_for(pair.sno_a.sno_id, pair.sno_b.sno_id)[:16]}"
            + (f" T={trust:.3f}" if isinstance(trust, float) else "")
        )
        if result.sno is not None:
            console.print(f"  {result.sno.central_hypothesis}")
        for reason in result.reasons[:3]:
            console.print(f"  - {reason}")


def register(app: typer.Typer) -> None:
    app.command("pairs")(pairs)
    app.command("synthesize")(synthesize)
