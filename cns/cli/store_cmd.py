"""Commands over the local store: ``cns ingest``, ``show``, ``export``, ``report``, ``delete``, ``stats``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cns.cli.common import DataDirOption, check_llm_once, lookup_errors, runtime
from cns.cli.output import out as stderr_output
from cns.cli.progress import ProgressDisplay
from cns.cli.render import sno_panel
from cns.core.progress import INGEST, ProgressCallback
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
    rt: Runtime, paths: list[Path], progress: ProgressCallback, *, follow_symlinks: bool = False
) -> IngestReport:
    """Ingest ``paths`` into the runtime's store, telling ``progress`` after each document, and
    print a line per document, the summary, and every skipped, failed and archived file.

    File names and reasons are printed escaped: a file named ``[/bold]x.txt`` is text, not markup.
    """
    output = stderr_output()
    total = 0
    finished = 0

    def loaded(count: int) -> None:
        nonlocal total
        total = count
        progress(INGEST, 0, total)

    def done(entry: IngestedDocument | FailedDocument, duplicate: bool) -> None:
        nonlocal finished
        label = (
            "duplicate" if duplicate else ("failed" if isinstance(entry, FailedDocument) else entry.status)
        )
        sno_id = entry.sno_id if isinstance(entry, IngestedDocument) else None
        sno = f"{short_id(sno_id)}  " if sno_id else ""
        output.detail(
            f"  {label:9} {sno}{escape(entry.source)}",
            event="ingest.document",
            status=label,
            sno_id=sno_id,
            source=entry.source,
        )
        finished += 1
        progress(INGEST, finished, total)

    report = rt.manager.ingest_paths(
        paths, follow_symlinks=follow_symlinks or None, on_loaded=loaded, on_document=done
    )
    summary = report.summary()
    output.summary(
        f"ingested {summary['ingested']} (admitted {summary['admitted']}, archived {summary['archived']}), "
        f"duplicates {summary['duplicates']}, skipped {len(report.skipped)}, failed {len(report.failed)}",
        event="ingest.summary",
        **{k: v for k, v in summary.items() if isinstance(v, int)},
        skipped=len(report.skipped),
        failed=len(report.failed),
    )
    for skipped in report.skipped:
        output.detail(
            f"  [yellow]skipped[/yellow] {escape(skipped.path)}: {escape(skipped.reason)}",
            event="ingest.skipped",
            source=skipped.path,
            reason=skipped.reason,
        )
    for failed in report.failed:
        output.error(
            f"  [red]failed[/red] {escape(failed.source)}: {escape(failed.reason)}",
            event="ingest.failed",
            source=failed.source,
            reason=failed.reason,
        )
    for archived in report.archived:
        reason = archived.reason or "below the ingest threshold"
        output.detail(
            f"  [yellow]archived[/yellow] {short_id(archived.sno_id)}  {escape(archived.source)}: {escape(reason)}",
            event="ingest.archived",
            sno_id=archived.sno_id,
            source=archived.source,
            reason=reason,
        )
    return report


def ingest(
    paths: PathsArg, data_dir: DataDirOption = None, follow_symlinks: FollowSymlinksOption = False
) -> None:
    """Ingest documents (txt, md, html, pdf, jsonl, folders) into the local store."""
    with runtime(data_dir) as rt:
        check_llm_once(rt)
        with ProgressDisplay() as progress:
            report = ingest_with_progress(rt, paths, progress, follow_symlinks=follow_symlinks)
    if report.failed:
        raise typer.Exit(code=1)


def show(
    sno_id: Annotated[
        str, typer.Argument(help="SNO id, document id (any unique prefix of either) or file name")
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Print one stored SNO: source file, reasoning graph, trust breakdown and evidence."""
    with runtime(data_dir) as rt, lookup_errors():
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
    output = stderr_output()
    output.summary(
        f"wrote {written.snos} SNOs, {written.pairs} pairs and {written.graphs} graphs to {escape(str(out))}",
        event="outputs.written",
        snos=written.snos,
        pairs=written.pairs,
        graphs=written.graphs,
        out_dir=str(out),
    )
    output.summary("  " + ", ".join(escape(p.name) for p in written.files), event="outputs.files")


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
        with lookup_errors():
            match = resolve_document(rt.store, document_id)
        report = rt.store.delete_document(match.id)
        rt.reference.sync()
    if not report.document_removed:  # deleted by another process between the lookup and the delete
        stderr_output().error(f"document {escape(describe(match))} is already gone", event="delete.gone")
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
