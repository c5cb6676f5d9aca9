"""``cns run PATH... --out DIR``: the single-machine product, or ``--api URL`` for a running service."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cns.cli.common import DataDirOption, TopicPairsOption, runtime
from cns.cli.store_cmd import FollowSymlinksOption, ingest_with_progress
from cns.errors import CNSError
from cns.services.lookup import short_id
from cns.services.runtime import Runtime
from cns.workflow.report import IngestReport

if TYPE_CHECKING:
    import httpx


def run(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="files or folders of documents")],
    out: Annotated[Path, typer.Option("--out", help="where report.html, snos.jsonl, pairs.jsonl go")] = Path(
        "out"
    ),
    data_dir: DataDirOption = None,
    max_syntheses: Annotated[int | None, typer.Option(help="synthesize at most this many pairs")] = None,
    include_syntheses: Annotated[
        bool | None,
        typer.Option(
            "--include-syntheses/--no-include-syntheses",
            help="let earlier syntheses pair up too (a new generation per run); "
            "default: population.pair_syntheses",
        ),
    ] = None,
    api: Annotated[
        str | None, typer.Option("--api", help="send the documents to a running service instead")
    ] = None,
    api_key: Annotated[str | None, typer.Option(envvar="CNS_API_KEY", help="API key for --api")] = None,
    api_timeout: Annotated[
        float, typer.Option("--api-timeout", help="with --api: seconds to wait for the jobs")
    ] = 3600.0,
    follow_symlinks: FollowSymlinksOption = False,
    topic_pairs: TopicPairsOption = None,
) -> None:
    """Ingest, evaluate, find chiral pairs, synthesize and write a self-contained report.

    Only regular files with a document extension are read; other files (code, data, images…),
    FIFOs, devices, sockets, symbolic links that loop, dangle or lead out of the given folders
    (unless --follow-symlinks) are listed as skipped with the reason, and so is every document
    archived at ingest or when the population is re-scored.
    """
    console = Console(stderr=True)
    if api is not None:
        run_with_service(
            paths,
            api,
            out,
            api_key=api_key,
            console=console,
            follow_symlinks=follow_symlinks,
            timeout=api_timeout,
        )
        return
    from cns.services.run import run_pipeline

    def ingest(rt: Runtime, chosen: Sequence[Path]) -> IngestReport:
        return ingest_with_progress(rt, list(chosen), console, follow_symlinks=follow_symlinks)

    with runtime(data_dir, pair_syntheses=include_syntheses, topic_pairs=topic_pairs) as rt:
        summary = run_pipeline(
            rt,
            paths,
            out,
            ingest=ingest,
            max_syntheses=max_syntheses,
            notify=lambda line: console.print(f"[yellow]{escape(line)}[/yellow]"),
        )
    facts = summary.to_dict()
    console.print(
        f"pairs {facts['pairs']}, syntheses attempted {facts['syntheses_attempted']}, "
        f"accepted {facts['syntheses_accepted']}, skipped (cooldown) {facts['syntheses_skipped']}, "
        f"archived at re-score {facts['archived_at_rescore']}"
    )
    for archived in summary.cycle.archived_at_rescore:
        critics = ", ".join(f"{k} {v:.2f}" for k, v in archived.critics.items())
        console.print(
            f"  [yellow]archived at re-score[/yellow] {short_id(archived.sno_id)}  "
            f"{escape(archived.source or '(no file)')}: {escape(archived.reason)} (critics: {escape(critics)})"
        )
    console.print(
        escape(f"wrote {out / 'report.html'}, {out / 'snos.jsonl'}, {out / 'pairs.jsonl'}, {out / 'graphs'}/")
    )
    console.print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in facts["seconds"].items()))


def run_with_service(
    paths: Sequence[Path],
    api: str,
    out: Path,
    *,
    api_key: str | None,
    console: Console,
    follow_symlinks: bool = False,
    timeout: float = 3600.0,
    poll_seconds: float = 0.5,
    retry_wait: float = 2.0,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """``cns run --api URL --out DIR``: submit, wait for every job, print what happened, write DIR.

    The outputs are those of a local run, read from what the service serves (every narrative, every
    pair it has found so far and each pair's newest synthesis). Every document that did not become a
    narrative is listed with its reason, and the exit code is 1 when there is any.
    """
    from cns.cli.api_client import ServedData, SubmitReport, fetch_served, run_via_api
    from cns.report import ReportData
    from cns.report.outputs import stored_pair_views, write_outputs
    from cns.services.run import report_thresholds

    served: list[ServedData] = []

    def fetch(client: httpx.Client, report: SubmitReport) -> None:
        if report.problems and not report.submitted:
            return  # nothing went in (a refused key, the service down): reading would fail the same way
        try:
            served.append(fetch_served(client))
        except CNSError as exc:
            report.problems.append(f"cannot read the outputs back: {exc}")

    report = run_via_api(
        paths,
        api,
        api_key=api_key,
        console=console,
        follow_symlinks=follow_symlinks,
        timeout=timeout,
        poll_seconds=poll_seconds,
        retry_wait=retry_wait,
        fetch=fetch,
        transport=transport,
    )
    failed = report.failed_documents()
    finished = [j for j, state in report.states.items() if state == "SUCCESS"]
    duplicates = set(report.duplicates())
    new = [j for j in finished if j not in duplicates]
    archived = [j for j in new if report.results.get(j, {}).get("status") == "archived"]
    console.print(
        f"ingested {len(new)} (admitted {len(new) - len(archived)}, archived {len(archived)}), "
        f"duplicates {len(duplicates)}, skipped {len(report.skipped)}, failed {len(failed)}",
        highlight=False,
    )
    for problem in report.problems:
        console.print(f"[red]error:[/red] {escape(problem)}", highlight=False)
    for path, reason in report.skipped:
        console.print(f"  [yellow]skipped[/yellow] {escape(path)}: {escape(reason)}", highlight=False)
    for source, reason in failed:
        console.print(f"  [red]failed[/red] {escape(source)}: {escape(reason)}", highlight=False)
    for job_id in archived:
        result = report.results[job_id]
        console.print(
            f"  [yellow]archived[/yellow] {short_id(str(result.get('sno_id') or ''))}  "
            f"{escape(report.submitted[job_id])}: trust {result.get('trust_score')} is below the ingest threshold",
            highlight=False,
        )
    if served:
        data = served[0]
        snos = {s.sno_id: s for s in data.snos}
        views, missing = stored_pair_views(data.pairs, snos, data.last)
        from cns.cli.common import load_config

        report_data = ReportData(
            title=f"CNS run report (service at {api})",
            snos=data.snos,
            pairs=views,
            thresholds=report_thresholds(load_config(None)),
            summary={
                "documents submitted": len(report.submitted),
                "duplicates": len(duplicates),
                "documents skipped": len(report.skipped),
                "failed": len(failed),
                "archived at ingest": len(archived),
            },
            skipped=list(report.skipped) + failed,
        )
        written = write_outputs(report_data, out)
        accepted = sum(1 for v in views if v.synthesis_accepted)
        console.print(
            f"the service holds {len(data.snos)} narratives, {len(views)} pairs found so far "
            f"(it searches for pairs periodically), {accepted} accepted syntheses",
            highlight=False,
        )
        if missing:
            console.print(
                f"  [yellow]{len(missing)} pairs left out: a narrative of theirs was deleted[/yellow]"
            )
        console.print(escape("wrote " + ", ".join(str(p) for p in written.files) + "/"), highlight=False)
    else:
        console.print(f"[red]nothing written to {escape(str(out))}[/red]: the outputs could not be read back")
    if failed or report.problems:
        raise typer.Exit(code=1)


def loop(
    paths: Annotated[list[Path] | None, typer.Argument(help="documents to queue first (optional)")] = None,
    data_dir: DataDirOption = None,
    synthesis_interval: Annotated[float, typer.Option(help="seconds between pair searches")] = 30.0,
    metrics_interval: Annotated[float, typer.Option(help="seconds between metrics log lines")] = 300.0,
    duration: Annotated[
        float | None, typer.Option(help="stop after this many seconds (default: until SIGINT/SIGTERM)")
    ] = None,
) -> None:
    """Run the continuous asyncio loop (ingest queue, synthesis loop, metrics) until interrupted."""
    import asyncio

    from cns.cli.common import load_config
    from cns.ingestion.loaders import load_path
    from cns.services.runtime import build_runtime
    from cns.workflow.runner import AsyncRunner

    rt = build_runtime(load_config(data_dir), "cli")
    runner = AsyncRunner(
        rt.manager,
        synthesis_interval=synthesis_interval,
        metrics_interval=metrics_interval,
        on_shutdown=rt.close,
    )
    console = Console(stderr=True)
    for path in paths or []:
        loaded = load_path(path, limits=rt.manager.loader_limits())
        for document in loaded.documents:
            runner.submit_document(document.text, document.source, document.metadata)
        for skipped in loaded.skipped:
            console.print(f"  [yellow]skipped[/yellow] {escape(skipped.path)}: {escape(skipped.reason)}")
    final = asyncio.run(runner.run(duration=duration))
    console.print(
        f"stopped: processed {final['processed']}, failed {final['failed']}, population {final['total_snos']}, "
        f"syntheses accepted {final['successful_syntheses']} / rejected {final['failed_syntheses']}, "
        f"still queued {final['queue_size']}"
    )


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("loop")(loop)
