"""``cns run PATH... --out DIR``: the single-machine product, or ``--api URL`` for a running service."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from cns.cli.common import DataDirOption, TopicPairsOption, runtime
from cns.cli.output import Output
from cns.cli.output import out as stderr_output
from cns.cli.progress import ProgressDisplay
from cns.cli.run_api import run_with_service
from cns.cli.store_cmd import FollowSymlinksOption, ingest_with_progress
from cns.services.lookup import short_id
from cns.services.runtime import Runtime
from cns.workflow.report import IngestReport

if TYPE_CHECKING:
    from cns.services.run import RunSummary


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
    if api is not None:
        run_with_service(
            paths, api, out, api_key=api_key, follow_symlinks=follow_symlinks, timeout=api_timeout
        )
        return
    from cns.services.run import run_pipeline

    output = stderr_output()
    with (
        runtime(data_dir, pair_syntheses=include_syntheses, topic_pairs=topic_pairs) as rt,
        ProgressDisplay(output) as progress,
    ):

        def ingest(rt: Runtime, chosen: Sequence[Path]) -> IngestReport:
            return ingest_with_progress(rt, list(chosen), progress, follow_symlinks=follow_symlinks)

        summary = run_pipeline(
            rt,
            paths,
            out,
            ingest=ingest,
            max_syntheses=max_syntheses,
            notify=lambda line: output.warning(f"[yellow]{escape(line)}[/yellow]", event="llm.unusable"),
            progress=progress,
        )
    print_run_summary(output, summary, out)


def print_run_summary(output: Output, summary: RunSummary, out: Path) -> None:
    """The lines after a local run: counts, re-score archivals, the files written, the timings."""
    facts = summary.to_dict()
    output.summary(
        f"pairs {facts['pairs']}, syntheses attempted {facts['syntheses_attempted']}, "
        f"accepted {facts['syntheses_accepted']}, skipped (cooldown) {facts['syntheses_skipped']}, "
        f"archived at re-score {facts['archived_at_rescore']}",
        event="run.summary",
        **{k: v for k, v in facts.items() if k != "seconds"},
    )
    for archived in summary.cycle.archived_at_rescore:
        critics = ", ".join(f"{k} {v:.2f}" for k, v in archived.critics.items())
        output.summary(
            f"  [yellow]archived at re-score[/yellow] {short_id(archived.sno_id)}  "
            f"{escape(archived.source or '(no file)')}: {escape(archived.reason)} (critics: {escape(critics)})",
            event="run.archived_at_rescore",
            **archived.to_dict(),
        )
    output.summary(
        escape(
            f"wrote {out / 'report.html'}, {out / 'snos.jsonl'}, {out / 'pairs.jsonl'}, {out / 'graphs'}/"
        ),
        event="outputs.written",
        out_dir=str(out),
    )
    output.detail(
        "timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in facts["seconds"].items()),
        event="run.timings",
        seconds=facts["seconds"],
    )


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

    output = stderr_output()
    rt = build_runtime(load_config(data_dir), "cli")
    with ProgressDisplay(output) as progress:
        runner = AsyncRunner(
            rt.manager,
            synthesis_interval=synthesis_interval,
            metrics_interval=metrics_interval,
            on_shutdown=rt.close,
            progress=progress,
        )
        for path in paths or []:
            loaded = load_path(path, limits=rt.manager.loader_limits())
            for document in loaded.documents:
                runner.submit_document(document.text, document.source, document.metadata)
            for skipped in loaded.skipped:
                output.detail(
                    f"  [yellow]skipped[/yellow] {escape(skipped.path)}: {escape(skipped.reason)}",
                    event="ingest.skipped",
                    source=skipped.path,
                    reason=skipped.reason,
                )
        final = asyncio.run(runner.run(duration=duration))
    output.summary(
        f"stopped: processed {final['processed']}, failed {final['failed']}, population {final['total_snos']}, "
        f"syntheses accepted {final['successful_syntheses']} / rejected {final['failed_syntheses']}, "
        f"still queued {final['queue_size']}",
        event="loop.stopped",
        **final,
    )


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("loop")(loop)
