"""Client side of ``cns submit`` / ``cns run --api URL``: send a folder to a running service.

Documents are loaded with the same loaders as ``cns run`` and posted to ``/ingest/batch`` in
chunks, each document with an ``Idempotency-Key`` derived from its content and source — running
the same command twice (or retrying after a 503) never creates a second job for a document.
With ``follow`` the jobs are polled until each is SUCCESS or FAILURE, with a progress bar.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.markup import escape

from cns.core.progress import INGEST, ProgressCallback, no_progress
from cns.core.sno import StructuredNarrativeObject
from cns.errors import CNSError, JobError
from cns.ingestion.document import Document
from cns.ingestion.loaders import load_path
from cns.ingestion.loaders.base import LoaderLimits
from cns.report.outputs import LastSynthesis

TERMINAL = frozenset({"SUCCESS", "FAILURE"})
BATCH_SIZE = 50
#: how often a batch answered 503 (broker or database down) is sent again before its documents are
#: listed as not submitted; the same Idempotency-Key makes the retries safe
RETRIES_503 = 3
#: answers that reject the documents themselves: the batch is then sent one document at a time, so
#: one bad document is listed with its reason and the others still go through
PER_DOCUMENT_STATUSES = frozenset({400, 413, 422})
PAGE = 500


class AccessRefused(CNSError):
    """401/403: the API key is missing, wrong, revoked or may not write; nothing more is sent."""


class ServiceUnavailable(CNSError):
    """503 after the retries: the service is up but cannot take work now."""


@dataclass
class SubmitReport:
    """What happened to every document: submitted (job id → file), finished, failed, skipped.

    ``not_submitted`` lists the files the service never accepted, with the reason (a 422 for that
    document, a refused key, a 503 that did not pass) so nothing is lost silently;
    ``replayed`` are jobs an earlier identical submission created (the Idempotency-Key).
    """

    submitted: dict[str, str] = field(default_factory=dict)  # job_id -> source
    states: dict[str, str] = field(default_factory=dict)  # job_id -> state
    sno_ids: dict[str, str] = field(default_factory=dict)  # job_id -> sno_id
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # job_id -> the job's result
    errors: dict[str, str] = field(default_factory=dict)  # job_id or source -> reason
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_submitted: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    replayed: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # one line each: what stopped the run early

    def duplicates(self) -> list[str]:
        """Jobs whose document was already stored: same text seen before, or this exact submission
        replayed from an earlier run."""
        return [
            job_id
            for job_id, state in self.states.items()
            if state == "SUCCESS"
            and (job_id in self.replayed or self.results.get(job_id, {}).get("duplicate"))
        ]

    def summary(self) -> dict[str, int]:
        done = list(self.states.values())
        return {
            "submitted": len(self.submitted),
            "succeeded": done.count("SUCCESS"),
            "failed": done.count("FAILURE"),
            "pending": len(self.submitted) - done.count("SUCCESS") - done.count("FAILURE"),
            "skipped": len(self.skipped),
            "not_submitted": len(self.not_submitted),
        }

    def failed_documents(self) -> list[tuple[str, str]]:
        """Every document that did not become a narrative, with why: refused, failed or unfinished."""
        failed = list(self.not_submitted)
        for job_id, state in self.states.items():
            source = self.submitted.get(job_id, job_id)
            if state == "FAILURE":
                failed.append((source, self.errors.get(job_id) or "the job failed"))
            elif state not in TERMINAL:
                failed.append((source, f"still {state} when the client stopped waiting (job {job_id})"))
        return failed


def document_key(document: Document) -> str:
    """A stable Idempotency-Key for a document from a given source."""
    return hashlib.sha256(f"{document.document_id}\0{document.source}".encode()).hexdigest()[:48]


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


def _raise_for(response: httpx.Response) -> dict[str, Any]:
    if response.status_code < 400:
        body: dict[str, Any] = response.json()
        return body
    message = _message(response)
    if response.status_code in (401, 403):
        raise AccessRefused(
            f"the service refused the API key ({response.status_code}: {message}); "
            "pass a key that may write with --api-key or CNS_API_KEY"
        )
    if response.status_code == 503:
        raise ServiceUnavailable(f"the service is unavailable (503: {message})")
    raise JobError(f"the service answered {response.status_code}: {message}", status=response.status_code)


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(float(response.headers.get("Retry-After", default)), 30.0)
    except ValueError:
        return default


def _post(client: httpx.Client, path: str, body: dict[str, Any], key: str, wait: float) -> httpx.Response:
    """POST with the Idempotency-Key, sending it again after a 503 (the key makes that safe)."""
    response = client.post(path, json=body, headers={"Idempotency-Key": key})
    for _ in range(RETRIES_503):
        if response.status_code != 503:
            break
        time.sleep(_retry_after(response, wait))
        response = client.post(path, json=body, headers={"Idempotency-Key": key})
    return response


def _accepted(report: SubmitReport, document: Document, item: dict[str, Any]) -> None:
    report.submitted[item["job_id"]] = document.source
    report.states[item["job_id"]] = item["state"]
    if item.get("created") is False:
        report.replayed.add(item["job_id"])


def _submit_one_by_one(
    client: httpx.Client, chunk: Sequence[Document], report: SubmitReport, wait: float
) -> None:
    for document in chunk:
        body = {"source": document.source, "text": document.text, "metadata": document.metadata}
        response = _post(client, "/ingest", body, document_key(document), wait)
        if response.status_code in PER_DOCUMENT_STATUSES:
            report.not_submitted.append(
                (document.source, f"refused by the service ({response.status_code}): {_message(response)}")
            )
            continue
        _accepted(report, document, _raise_for(response))


def submit_documents(
    client: httpx.Client,
    documents: Sequence[Document],
    report: SubmitReport,
    *,
    batch_size: int = BATCH_SIZE,
    retry_wait: float = 2.0,
) -> None:
    """Send ``documents`` in batches; every document ends in ``submitted`` or ``not_submitted``.

    A batch refused for its content (422, 400, 413) is sent one document at a time so only the
    bad documents are refused; a refused key (401/403) or a 503 that outlasts the retries stops the
    submission, and every document not yet accepted is listed with that reason.
    """
    for start in range(0, len(documents), batch_size):
        chunk = documents[start : start + batch_size]
        key = hashlib.sha256("".join(document_key(d) for d in chunk).encode()).hexdigest()[:48]
        body = {"documents": [{"source": d.source, "text": d.text, "metadata": d.metadata} for d in chunk]}
        try:
            response = _post(client, "/ingest/batch", body, key, retry_wait)
            if response.status_code in PER_DOCUMENT_STATUSES:
                _submit_one_by_one(client, chunk, report, retry_wait)
                continue
            items = _raise_for(response)["items"]
        except (AccessRefused, ServiceUnavailable, JobError) as exc:
            done = set(report.submitted.values())
            report.problems.append(str(exc))
            why = (
                "the service refused the API key"
                if isinstance(exc, AccessRefused)
                else "the service was unavailable (503)"
                if isinstance(exc, ServiceUnavailable)
                else str(exc)
            )
            report.not_submitted += [
                (d.source, f"not submitted: {why} (see the error above)")
                for d in documents[start:]
                if d.source not in done
            ]
            return
        for document, item in zip(chunk, items, strict=True):
            _accepted(report, document, item)


def _poll(client: httpx.Client, report: SubmitReport, job_id: str) -> bool:
    """Read one job's state; True when it is finished."""
    status = _raise_for(client.get(f"/tasks/{job_id}"))
    report.states[job_id] = status["state"]
    if status["state"] == "SUCCESS":
        report.sno_ids[job_id] = status.get("sno_id") or ""
        report.results[job_id] = dict(status.get("result") or {})
        return True
    if status["state"] == "FAILURE":
        report.errors[job_id] = status.get("error") or "failed"
        return True
    return False


def follow_jobs(
    client: httpx.Client,
    report: SubmitReport,
    *,
    timeout: float,
    poll: float,
    progress: ProgressCallback = no_progress,
    notify: Callable[[str], None] | None = None,
) -> None:
    """Poll ``GET /tasks/{id}`` until every job is SUCCESS or FAILURE (or ``timeout``), telling
    ``progress`` how many are finished (the CLI's bar: jobs per second and ETA). A 503 or a lost
    connection while polling is reported once through ``notify`` and polling goes on; jobs still
    open at the deadline are listed by the caller."""
    deadline = time.monotonic() + timeout
    open_jobs = list(report.submitted)  # poll each once at least: a replayed job may be done
    warned: set[str] = set()
    progress(INGEST, 0, len(open_jobs))
    while open_jobs and time.monotonic() < deadline:
        still_open = []
        for position, job_id in enumerate(open_jobs):
            try:
                finished = _poll(client, report, job_id)
            except (ServiceUnavailable, httpx.TransportError) as exc:
                line = f"polling paused: {exc}" if isinstance(exc, ServiceUnavailable) else (
                    f"polling paused: cannot reach the service ({type(exc).__name__})"
                )  # fmt: skip
                if line not in warned and notify is not None:
                    notify(f"[yellow]{escape(line)}[/yellow] (retrying)")
                warned.add(line)
                still_open += open_jobs[position:]
                break
            if not finished:
                still_open.append(job_id)
        progress(INGEST, len(report.submitted) - len(still_open), len(report.submitted))
        open_jobs = still_open
        if open_jobs:
            time.sleep(poll)


def _pages(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list route (``limit``/``offset``/``total``)."""
    items: list[dict[str, Any]] = []
    while True:
        page = _raise_for(client.get(path, params={**params, "limit": PAGE, "offset": len(items)}))
        items += page["items"]
        if not page["items"] or len(items) >= int(page["total"]):
            return items


@dataclass(frozen=True)
class ServedData:
    """What the service serves: every SNO (syntheses included), every pair, the newest attempt per pair."""

    snos: list[StructuredNarrativeObject]
    pairs: list[dict[str, Any]]
    last: dict[str, LastSynthesis]


def fetch_served(client: httpx.Client) -> ServedData:
    """``GET /snos``, ``GET /pairs`` and ``GET /syntheses``, every page."""
    # whole SNOs, vectors too (a list item is only a summary unless asked): the report is built
    # from the same SNOs as from a local store
    whole = _pages(client, "/snos", include=["full", "embedding"])
    snos = [StructuredNarrativeObject.from_dict(item) for item in whole]
    pairs = _pages(client, "/pairs")
    last: dict[str, LastSynthesis] = {}
    for attempt in _pages(client, "/syntheses"):  # newest first: the first seen per pair is the last
        last.setdefault(
            str(attempt["pair_id"]),
            LastSynthesis(
                attempt.get("sno_id"), attempt.get("accepted") is True, attempt.get("reasons") or []
            ),
        )
    return ServedData(snos, pairs, last)


def run_via_api(
    paths: Iterable[str | Path],
    api_url: str,
    *,
    follow: bool = True,
    api_key: str | None = None,
    timeout: float = 3600.0,
    poll_seconds: float = 0.5,
    progress: ProgressCallback = no_progress,
    notify: Callable[[str], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    follow_symlinks: bool = False,
    retry_wait: float = 2.0,
    fetch: Callable[[httpx.Client, SubmitReport], None] | None = None,
) -> SubmitReport:
    """Load every document under ``paths``, submit them to ``api_url``, optionally follow them.

    Folders are walked as by ``cns run`` (regular files only; links out of them only with
    ``follow_symlinks``). ``fetch`` is called with the open client once the jobs are followed
    (``cns run --api --out`` reads the outputs there); ``progress`` hears the finished jobs and
    ``notify`` receives a line (Rich markup) when polling pauses. An unreachable service is a
    :class:`~cns.errors.CNSError`; a refused key or a lasting 503 is recorded in ``problems``
    with every document it kept out.
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
            submit_documents(client, documents, report, retry_wait=retry_wait)
            if follow and report.submitted:
                follow_jobs(
                    client, report, timeout=timeout, poll=poll_seconds, progress=progress, notify=notify
                )
            if fetch is not None:
                fetch(client, report)
    except httpx.HTTPError as exc:
        raise CNSError(
            f"cannot reach the CNS service at {api_url}: {type(exc).__name__}: {exc}; "
            f"{len(report.submitted)} of {len(documents)} documents were submitted before that"
        ) from exc
    return report
