"""Client side of ``cns submit`` / ``cns run --api URL``: send a folder to a running service.

Documents are loaded with the same loaders as ``cns run`` and posted to ``/ingest/batch`` in
chunks, each document with an ``Idempotency-Key`` derived from its content and source — running
the same command twice (or retrying after a 503) never creates a second job for a document.
With ``follow`` the jobs are polled until each is SUCCESS or FAILURE, with a Rich progress bar.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cns.errors import CNSError, JobError
from cns.ingestion.document import Document
from cns.ingestion.loaders import load_path
from cns.ingestion.loaders.base import LoaderLimits

TERMINAL = frozenset({"SUCCESS", "FAILURE"})
BATCH_SIZE = 50


@dataclass
class SubmitReport:
    submitted: dict[str, str] = field(default_factory=dict)  # job_id -> source
    states: dict[str, str] = field(default_factory=dict)  # job_id -> state
    sno_ids: dict[str, str] = field(default_factory=dict)  # job_id -> sno_id
    errors: dict[str, str] = field(default_factory=dict)  # job_id or source -> reason
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        done = list(self.states.values())
        return {
            "submitted": len(self.submitted),
            "succeeded": done.count("SUCCESS"),
            "failed": done.count("FAILURE"),
            "pending": len(self.submitted) - done.count("SUCCESS") - done.count("FAILURE"),
            "skipped": len(self.skipped),
        }


def document_key(document: Document) -> str:
    """A stable Idempotency-Key for a document from a given source."""
    return hashlib.sha256(f"{document.document_id}\0{document.source}".encode()).hexdigest()[:48]


def _raise_for(response: httpx.Response) -> dict[str, Any]:
    if response.status_code < 400:
        body: dict[str, Any] = response.json()
        return body
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:200]
    raise JobError(f"the service answered {response.status_code}: {message}", status=response.status_code)


def submit_documents(
    client: httpx.Client, documents: Sequence[Document], report: SubmitReport, *, batch_size: int = BATCH_SIZE
) -> None:
    for start in range(0, len(documents), batch_size):
        chunk = documents[start : start + batch_size]
        key = hashlib.sha256("".join(document_key(d) for d in chunk).encode()).hexdigest()[:48]
        body = {"documents": [{"source": d.source, "text": d.text, "metadata": d.metadata} for d in chunk]}
        items = _raise_for(client.post("/ingest/batch", json=body, headers={"Idempotency-Key": key}))["items"]
        for document, item in zip(chunk, items, strict=True):
            report.submitted[item["job_id"]] = document.source
            report.states[item["job_id"]] = item["state"]


def follow_jobs(
    client: httpx.Client, report: SubmitReport, *, timeout: float, poll: float, console: Console | None
) -> None:
    deadline = time.monotonic() + timeout
    open_jobs = list(report.submitted)  # poll each once at least: a replayed job may be done
    progress = Progress(
        TextColumn("[bold]ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=console is None,
    )  # fmt: skip
    with progress:
        bar = progress.add_task(
            "jobs", total=len(report.submitted), completed=len(report.submitted) - len(open_jobs)
        )
        while open_jobs and time.monotonic() < deadline:
            still_open = []
            for job_id in open_jobs:
                status = _raise_for(client.get(f"/tasks/{job_id}"))
                report.states[job_id] = status["state"]
                if status["state"] == "SUCCESS":
                    report.sno_ids[job_id] = status.get("sno_id") or ""
                elif status["state"] == "FAILURE":
                    report.errors[job_id] = status.get("error") or "failed"
                else:
                    still_open.append(job_id)
            progress.update(bar, completed=len(report.submitted) - len(still_open))
            open_jobs = still_open
            if open_jobs:
                time.sleep(poll)


def run_via_api(
    paths: Iterable[str | Path],
    api_url: str,
    *,
    follow: bool = True,
    api_key: str | None = None,
    timeout: float = 3600.0,
    poll_seconds: float = 0.5,
    console: Console | None = None,
    transport: httpx.BaseTransport | None = None,
    follow_symlinks: bool = False,
) -> SubmitReport:
    """Load every document under ``paths``, submit them to ``api_url``, optionally follow them.

    Folders are walked as by ``cns run`` (regular files only; links out of them only with
    ``follow_symlinks``).
    """
    report = SubmitReport()
    documents: list[Document] = []
    limits = LoaderLimits(follow_symlinks=follow_symlinks)
    for path in paths:
        loaded = load_path(path, limits=limits)
        documents += loaded.documents
        report.skipped += [(s.path, s.reason) for s in loaded.skipped]
    headers = {"X-API-Key": api_key} if api_key else {}
    try:
        with httpx.Client(base_url=api_url, headers=headers, timeout=30.0, transport=transport) as client:
            submit_documents(client, documents, report)
            if follow:
                follow_jobs(client, report, timeout=timeout, poll=poll_seconds, console=console)
    except httpx.HTTPError as exc:
        raise CNSError(f"cannot reach the CNS service at {api_url}: {type(exc).__name__}: {exc}") from exc
    return report
