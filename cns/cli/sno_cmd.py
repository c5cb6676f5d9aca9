"""``cns sno validate|show|evaluate``: work with SNO JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cns.cli.render import sno_panel
from cns.cli.snofiles import iter_sno_dicts, load_snos, write_jsonl
from cns.config import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.critics.evaluator import Evaluator
from cns.errors import CNSError
from cns.models.factory import load_embedder, load_nli
from cns.services.lookup import file_label, short_id

sno_app = typer.Typer(
    help="Validate, show and evaluate SNO files (JSON, JSON list or JSONL).", no_args_is_help=True
)
FilesArg = Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True, help="SNO files")]


@sno_app.command("validate")
def validate(files: FilesArg) -> None:
    """Check every SNO in FILES against the schema and the SNO invariants; exit 1 on any error."""
    config = CNSConfig()
    console = Console()
    failures = 0
    for path in files:
        try:
            entries = list(iter_sno_dicts(path))
        except CNSError as exc:
            console.print(f"[red]INVALID[/red] {escape(str(exc))}")
            failures += 1
            continue
        for location, data in entries:
            try:
                sno = StructuredNarrativeObject.from_dict(data, embedding_dim=config.embedding_dim)
            except (CNSError, KeyError, TypeError, ValueError) as exc:
                console.print(f"[red]INVALID[/red] {escape(location)}: {escape(str(exc))}")
                failures += 1
            else:
                source = sno.metadata.get("source")
                console.print(
                    f"[green]ok[/green] {escape(location)}: {escape(sno.sno_id)}"
                    + (f" ({escape(str(source))})" if source else "")
                    + f" ({sno.reasoning_graph.number_of_nodes()} claims)"
                )
    if failures:
        raise typer.Exit(code=1)


@sno_app.command("show")
def show(
    files: FilesArg, sno_id: Annotated[str | None, typer.Option("--id", help="only this SNO")] = None
) -> None:
    """Print each SNO's reasoning graph as a tree with its trust breakdown and evidence."""
    console = Console(width=160)
    shown = 0
    for sno in load_snos(files):
        if sno_id and not sno.sno_id.startswith(sno_id):
            continue
        console.print(sno_panel(sno))
        shown += 1
    if sno_id and not shown:
        console.print(f"[red]no SNO whose id starts with {escape(repr(sno_id))}[/red]")
        raise typer.Exit(code=1)


@sno_app.command("evaluate")
def evaluate(
    files: FilesArg,
    out: Annotated[Path | None, typer.Option(help="write the evaluated SNOs to this JSONL file")] = None,
) -> None:
    """Score the SNOs in FILES against each other with the configured critics and models."""
    config = CNSConfig()
    snos = load_snos(files, embedding_dim=config.embedding_dim)
    evaluator = Evaluator(config, embedder=load_embedder(config), nli=load_nli(config=config))
    evaluator.evaluate_population(snos)
    table = Table(title=f"{len(snos)} SNOs evaluated")
    for column in ("sno", "file", "trust", "grounding", "logic", "novelty", "hypothesis"):
        table.add_column(column)
    for sno in sorted(snos, key=lambda s: -(s.trust_score or 0.0)):
        results = (sno.evaluation or {}).get("critic_results", {})
        source = sno.metadata.get("source")
        table.add_row(
            escape(short_id(sno.sno_id)),
            escape(file_label(str(source) if source else None)),
            f"{sno.trust_score:.3f}",
            *(f"{results[c]['score']:.3f}" for c in ("grounding", "logic", "novelty")),
            escape(sno.central_hypothesis[:70]),
        )
    Console(width=160).print(table)
    if out is not None:
        count = write_jsonl(out, snos)
        typer.echo(f"wrote {count} SNOs to {out}")
