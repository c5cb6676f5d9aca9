"""``cns run PATH... --api URL --out DIR``: the same run through a running service.

The documents are sent to the service, the command waits for every job (with the progress bar),
prints the summary a local run prints, and writes the same output folder from what the service
serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from cns.cli.output import Output, for_console
from cns.cli.progress import ProgressDisplay
from cns.errors import CNSError
from cns.services.lookup import short_id

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

    from cns.cli.api_client import ServedData, SubmitReport


def run_with_service(
    paths: Sequence[Path],
    api: str,
    out: Path,
    *,
    api_key: str | None,
    console: Console | None = None,
    follow_symlinks: bool = False,
    timeout: float = 3600.0,
    poll_seconds: float = 0.5,
    retry_wait: float = 2.0,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """``cns run --api URL --out DIR``: submit, wait for every job, print what happened, write DIR.

    The outputs are those of a local run, read from what the service serves (every narrative, every
    pair it has found so far and each pair's newest synthesis). Every document that did not become a
    narrative is listed with its reason, and the exit code is 1 when there is any. ``console``
    replaces stderr (tests capture what is printed).
    """
    from cns.cli.api_client import fetch_served, run_via_api

    output = for_console(console)
    served: list[ServedData] = []

    def fetch(client: httpx.Client, report: SubmitReport) -> None:
        if report.problems and not report.submitted:
            return  # nothing went in (a refused key, the service down): reading would fail the same way
        try:
            served.append(fetch_served(client))
        except CNSError as exc:
            report.problems.append(f"cannot read the outputs back: {exc}")

    with ProgressDisplay(output) as progress:
        report = run_via_api(
            paths,
            api,
            api_key=api_key,
            notify=output.warning,
            progress=progress,
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
    output.summary(
        f"ingested {len(new)} (admitted {len(new) - len(archived)}, archived {len(archived)}), "
        f"duplicates {len(duplicates)}, skipped {len(report.skipped)}, failed {len(failed)}",
        event="ingest.summary",
        ingested=len(new),
        admitted=len(new) - len(archived),
        archived=len(archived),
        duplicates=len(duplicates),
        skipped=len(report.skipped),
        failed=len(failed),
    )
    for problem in report.problems:
        output.error(f"[red]error:[/red] {escape(problem)}", event="api.problem")
    for path, reason in report.skipped:
        output.detail(
            f"  [yellow]skipped[/yellow] {escape(path)}: {escape(reason)}",
            event="ingest.skipped",
            source=path,
            reason=reason,
        )
    for source, reason in failed:
        output.error(
            f"  [red]failed[/red] {escape(source)}: {escape(reason)}",
            event="ingest.failed",
            source=source,
            reason=reason,
        )
    for job_id in archived:
        result = report.results[job_id]
        output.detail(
            f"  [yellow]archived[/yellow] {short_id(str(result.get('sno_id') or ''))}  "
            f"{escape(report.submitted[job_id])}: trust {result.get('trust_score')} is below the ingest threshold",
            event="ingest.archived",
            sno_id=result.get("sno_id"),
            source=report.submitted[job_id],
        )
    if served:
        _write_served(
            output, served[0], report, api, out, failed=failed, duplicates=duplicates, archived=archived
        )
    else:
        output.error(
            f"[red]nothing written to {escape(str(out))}[/red]: the outputs could not be read back",
            event="outputs.not_written",
        )
    if failed or report.problems:
        raise typer.Exit(code=1)


def _write_served(
    output: Output,
    data: ServedData,
    report: SubmitReport,
    api: str,
    out: Path,
    *,
    failed: list[tuple[str, str]],
    duplicates: set[str],
    archived: list[str],
) -> None:
    """Write ``out`` from what the service serves, and say what it holds."""
    from cns.cli.common import load_config
    from cns.report import ReportData
    from cns.report.outputs import stored_pair_views, write_outputs
    from cns.services.run import report_thresholds

    snos = {s.sno_id: s for s in data.snos}
    views, missing = stored_pair_views(data.pairs, snos, data.last)
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
    output.summary(
        f"the service holds {len(data.snos)} narratives, {len(views)} pairs found so far "
        f"(it searches for pairs periodically), {accepted} accepted syntheses",
        event="api.served",
        narratives=len(data.snos),
        pairs=len(views),
        accepted_syntheses=accepted,
    )
    if missing:
        output.warning(
            f"  [yellow]{len(missing)} pairs left out: a narrative of theirs was deleted[/yellow]",
            event="api.pairs_left_out",
            pair_ids=missing,
        )
    output.summary(
        escape("wrote " + ", ".join(str(p) for p in written.files) + "/"),
        event="outputs.written",
        out_dir=str(out),
    )
