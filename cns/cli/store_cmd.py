"""Commands over the local store: ``cns ingest``, ``show``, ``export``, ``report``, ``delete``, ``stats``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cns.cli.common import DataDirOption, check_llm_once, lookup_errors, progress_bar, runtime
from cns.cli.render import sno_panel
from cns.services.lookup import describe, resolve_document, resolve_narrative, short_id
from cns.services.runtime import Runtime
from cns.workflow.report import FailedDocument, IngestedDocument, IngestReport

PathsArg = Annotated[list[Path], typer.Argument(exists=True, help="files or folders to ingest")]
FollowSymlinksOption = Annotated[
    bool,
    typer.Option(
        "--follow-symlinks",
        help="also follow symbolic links that lead out of the given folders "
        "(default: loaders.follow_symlinks, off: such links are listed as skipped)",
    ),
]


def ingest_with_progress(
    rt: Runtime, paths: list[Path], console: Console, *, follow_symlinks: bool = False
) -> IngestReport:
    """Ingest ``paths`` into the runtime's store with a progress bar (documents/s and ETA).

    File names and reasons are printed escaped: a file named ``[/bold]x.txt`` is text, not markup.
    """
    with progress_bar() as progress:
        task = progress.add_task("ingesting", total=None, rate="")
        start = time.perf_counter()

        def loaded(total: int) -> None:
            progress.update(task, total=total)

        def done(entry: IngestedDocument | FailedDocument, duplicate: bool) -> None:
            label = (
                "duplicate"
                if duplicate
                else ("failed" if isinstance(entry, FailedDocument) else entry.status)
            )
            progress.advance(task)
            sno = f"{short_id(entry.sno_id)}  " if isinstance(entry, IngestedDocument) else ""
            progress.console.print(f"  {label:9} {sno}{escape(entry.source)}", highlight=False)
            finished = progress.tasks[0].completed
            rate = finished / max(time.perf_counter() - start, 1e-9)
            progress.update(task, rate=f"{rate:.2f} docs/s")

        report = rt.manager.ingest_paths(
            paths, follow_symlinks=follow_symlinks or None, on_loaded=loaded, on_document=done
        )
    summary = report.summary()
    console.print(
        f"ingested {summary['ingested']} (admitted {summary['admitted']}, archived {summary['archived']}), "
        f"duplicates {summary['duplicates']}, skipped {len(report.skipped)}, failed {len(report.failed)}"
    )
    for skipped in report.skipped:
        console.print(
            f"  [yellow]skipped[/yellow] {escape(skipped.path)}: {escape(skipped.reason)}", highlight=False
        )
    for failed in report.failed:
        console.print(
            f"  [red]failed[/red] {escape(failed.source)}: {escape(failed.reason)}", highlight=False
        )
    for archived in report.archived:
        console.print(
            f"  [yellow]archived[/yellow] {short_id(archived.sno_id)}  {escape(archived.source)}: "
            f"{escape(archived.reason or 'below the ingest threshold')}",
            highlight=False,
        )
    return report


def ingest(
    paths: PathsArg, data_dir: DataDirOption = None, follow_symlinks: FollowSymlinksOption = False
) -> None:
    """Ingest documents (txt, md, html, pdf, jsonl, folders) into the local store."""
    console = Console(stderr=True)
    with runtime(data_dir) as rt:
        check_llm_once(rt, console)
        report = ingest_with_progress(rt, paths, console, follow_symlinks=follow_symlinks)
    if report.failed:
        raise typer.Exit(code=1)


def show(
    sno_id: Annotated[
        str, typer.Argument(help="SNO id, document id (any unique prefix of either) or file name")
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Print one stored SNO: source file, reasoning graph, trust breakdown and evidence."""
    with runtime(data_dir) as rt, lookup_errors(Console(stderr=True)):
        match = resolve_narrative(rt.store, sno_id)
        sno = rt.store.get(match.id)
    Console(width=160).print(sno_panel(sno, document_id=match.document_id))


def _write_from_store(out: Path, data_dir: Path | None, *, html: bool) -> None:
    """``cns export`` and ``cns report``: the run's output files from what the store holds."""
    from cns.report.outputs import write_outputs
    from cns.services.run import store_report_data, svg_cache_dir

    with runtime(data_dir) as rt:
        data = store_report_data(rt)
        written = write_outputs(data, out, html=html, svg_cache=svg_cache_dir(rt.config))
    console = Console(stderr=True)
    console.print(
        f"wrote {written.snos} SNOs, {written.pairs} pairs and {written.graphs} graphs to {escape(str(out))}",
        highlight=False,
    )
    console.print("  " + ", ".join(escape(p.name) for p in written.files), highlight=False)


def export(
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("export"),
    data_dir: DataDirOption = None,
) -> None:
    """Write snos.jsonl, pairs.jsonl and GraphML + Mermaid graphs of every stored SNO.

    The files have the shape ``cns run`` writes (``pairs.jsonl`` rows carry the two file names and
    each pair's newest synthesis); ``cns report`` adds report.html.
    """
    _write_from_store(out, data_dir, html=False)


def report(
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("out"),
    data_dir: DataDirOption = None,
) -> None:
    """Rebuild report.html, snos.jsonl, pairs.jsonl and graphs/ from the local store, re-running nothing.

    Every stored narrative, every stored pair and its newest synthesis are shown; the plots of
    judged pairs and the near misses belong to the run that judged them (`cns run`), so they are
    empty here.
    """
    _write_from_store(out, data_dir, html=True)


def delete(
    document_id: Annotated[
        str,
        typer.Argument(help="document id or the id of its SNO (any unique prefix; `cns ingest` prints them)"),
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Remove a document, its SNO, its index entries and the pairs and syntheses that depend on it."""
    with runtime(data_dir) as rt:
        with lookup_errors(Console(stderr=True)):
            match = resolve_document(rt.store, document_id)
        report = rt.store.delete_document(match.id)
        rt.reference.sync()
    if not report.document_removed:  # deleted by another process between the lookup and the delete
        typer.echo(f"document {describe(match)} is already gone", err=True)
        raise typer.Exit(code=1)
    typer.echo(
        f"deleted document {describe(match)}: {len(report.sno_ids)} SNOs, {len(report.synthesis_ids)} "
        f"syntheses, {len(report.pair_ids)} pairs, {report.attempts_removed} synthesis attempts"
    )


def stats(data_dir: DataDirOption = None) -> None:
    """Counts of documents, SNOs by status, pairs, attempts and jobs, and the trust distribution."""
    with runtime(data_dir) as rt:
        counts = rt.store.counts()
        trusts = [s.trust_score for s in rt.store.list(status="active") if s.trust_score is not None]
        url = rt.store.url
    table = Table(title=f"store {url}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key, str(value))
    if trusts:
        table.add_row("mean trust (active)", f"{sum(trusts) / len(trusts):.3f}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    for command in (ingest, show, export, report, delete, stats):
        app.command(command.__name__)(command)
