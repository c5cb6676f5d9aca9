"""``POST /ingest``, ``/ingest/batch`` and ``/ingest/files``: store the document and job, then enqueue.

Answers 202 with the job (poll ``GET /tasks/{task_id}``). Empty ``source``/``text`` → 400;
unknown fields, too long texts or too big batches → 422; a broker that does not
accept the job within ``service.publish_timeout_seconds`` → 503 (the job is kept and the
reconciler enqueues it later; retry with the same ``Idempotency-Key`` to get the same job).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, File, UploadFile
from pydantic import ValidationError as PydanticValidationError

from cns.api.deps import IdempotencyKey, Services, ServicesDep, WriteAccess
from cns.api.errors import ApiError
from cns.api.responses import WRITE, error_responses
from cns.api.schemas import IngestAccepted, IngestBatchAccepted, IngestBatchRequest, IngestRequest
from cns.errors import BrokerUnavailable
from cns.ingestion.boilerplate import word_count
from cns.ingestion.document import Document
from cns.ingestion.loaders.base import LoaderLimits
from cns.services.apikeys import ApiKeyInfo
from cns.services.jobs import Submission, submit_ingestion
from cns.services.uploads import ParsersBusy, load_upload

router = APIRouter(tags=["ingestion"], responses=error_responses(*WRITE))


def accepted(submission: Submission, services: Services | None = None) -> IngestAccepted:
    job = submission.job
    shared = bool(submission.document_shared)
    if submission.document_shared is None and services is not None and submission.document_id is not None:
        owner = job.payload.get("submitted_by")  # a replay: the submit did not look at the document
        exists, first_owner = services.store.document_owner(submission.document_id)
        shared = exists and first_owner != owner
    return IngestAccepted(
        task_id=job.job_id,
        job_id=job.job_id,
        document_id=submission.document_id,
        state=job.state.value,
        created=submission.created,
        submitted_by_another_key=shared,
    )


#: Unicode categories that show nothing on their own: marks, format (zero-width) and control
#: characters, separators. A text made only of these has no sentence to extract.
_INVISIBLE = frozenset({"Mn", "Me", "Cf", "Cc", "Zs", "Zl", "Zp"})


def has_visible_text(text: str) -> bool:
    return any(unicodedata.category(ch) not in _INVISIBLE for ch in text)


def _check_text(services: Services, text: str, loc: list[Any]) -> None:
    """Refuse here what the worker could never process, saying why (blank text stays the documented 400).

    The extractor needs at least one word (letters or digits, in any script; CJK counts by
    character): a text of only punctuation, symbols or emoji would be accepted and then fail in
    the worker. Any text with a word is processed (its line with the most words becomes the
    hypothesis when nothing reads like a sentence).
    """
    limit = services.config.service.max_text_chars
    if len(text) > limit:
        raise ApiError(
            422,
            f"text is longer than {limit} characters (service.max_text_chars)",
            details=[{"loc": loc, "msg": f"at most {limit} characters", "type": "string_too_long"}],
        )
    if text.strip() and not has_visible_text(text):
        raise ApiError(
            422,
            "text holds only zero-width, combining, control or space characters: there is nothing to ingest",
            details=[{"loc": loc, "msg": "no visible character", "type": "no_visible_text"}],
        )
    if text.strip() and word_count(text) == 0:
        raise ApiError(
            422,
            "text has no words (only punctuation, symbols or emoji): there is no statement to ingest",
            details=[{"loc": loc, "msg": "no word in any script", "type": "no_words"}],
        )


def _submit(
    services: Services, doc: IngestRequest, key: str | None, owner: ApiKeyInfo | None, item: int | None = None
) -> Submission:
    return submit_ingestion(
        store=services.store,
        publisher=services.publisher,
        config=services.config,
        source=doc.source,
        text=doc.text,
        metadata=doc.metadata,
        idempotency_key=key,
        owner=None if owner is None else owner.key_id,
        item=item,
    )


def _submit_all(
    services: Services, docs: list[IngestRequest], key: str | None, owner: ApiKeyInfo | None
) -> IngestBatchAccepted:
    done: list[IngestAccepted] = []
    for i, doc in enumerate(docs):
        try:
            done.append(accepted(_submit(services, doc, key, owner, item=i), services))
        except BrokerUnavailable as exc:
            exc.details["accepted_job_ids"] = [d.job_id for d in done]
            raise
    return IngestBatchAccepted(items=done)


def _as_request(document: Document) -> tuple[IngestRequest | None, str]:
    """A loaded document as an ingest request, or why it is not one (e.g. a JSONL ``source`` over
    MAX_SOURCE_CHARS): the same rules as ``POST /ingest``, reported per file instead of a 500."""
    try:
        return IngestRequest(source=document.source, text=document.text, metadata=document.metadata), ""
    except PydanticValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return None, f"not a valid document: {problems}"


@router.post("/ingest", status_code=202, response_model=IngestAccepted)
async def ingest(
    body: IngestRequest, services: ServicesDep, caller: WriteAccess, key: IdempotencyKey
) -> IngestAccepted:
    """Accept one document for ingestion."""
    # one hop to a worker thread for all that blocks (text checks over up to max_text_chars, the
    # commit, the publish): the event loop keeps serving other requests meanwhile
    return await anyio.to_thread.run_sync(
        accept_one, services, body, key, caller, limiter=services.submitters
    )


def accept_one(
    services: Services, body: IngestRequest, key: str | None, caller: ApiKeyInfo | None
) -> IngestAccepted:
    _check_text(services, body.text, ["body", "text"])
    return accepted(_submit(services, body, key, caller), services)


@router.post("/ingest/batch", status_code=202, response_model=IngestBatchAccepted)
def ingest_batch(
    body: IngestBatchRequest, services: ServicesDep, caller: WriteAccess, key: IdempotencyKey
) -> IngestBatchAccepted:
    """Accept up to ``service.max_batch_documents`` documents (each becomes its own job)."""
    limit = services.config.service.max_batch_documents
    if len(body.documents) > limit:
        raise ApiError(
            422,
            f"a batch holds at most {limit} documents (service.max_batch_documents)",
            details=[{"loc": ["body", "documents"], "msg": f"at most {limit} items", "type": "too_long"}],
        )
    for i, doc in enumerate(body.documents):
        _check_text(services, doc.text, ["body", "documents", i, "text"])
    for i, doc in enumerate(body.documents):
        if not doc.source.strip() or not doc.text.strip():
            raise ApiError(400, f"document {i}: 'source' and 'text' must not be empty")
    return _submit_all(services, body.documents, key, caller)


@router.post("/ingest/files", status_code=202, response_model=IngestBatchAccepted)
def ingest_files(
    files: Annotated[list[UploadFile], File(description=".txt, .md, .html, .pdf or .jsonl files")],
    services: ServicesDep,
    caller: WriteAccess,
    key: IdempotencyKey,
) -> IngestBatchAccepted:
    """Upload files; each document they contain becomes a job (unusable files → 422 with reasons).

    PDF, HTML and Markdown are parsed in a child process under the ``loaders`` limits (this route
    runs in the thread pool, and the parse never holds the event loop); a file over a limit is a
    422 naming it, and when all ``loaders.parsers`` are busy the answer is 503 with Retry-After.
    """
    return submit_uploads(services, [(f.filename, f.file.read()) for f in files], key, caller)


def submit_uploads(
    services: Services, uploads: list[tuple[str | None, bytes]], key: str | None, caller: ApiKeyInfo | None
) -> IngestBatchAccepted:
    """Parse uploaded files (name, bytes) and submit each document they hold: the body of
    ``POST /ingest/files``, shared with the web interface's upload page."""
    limits = LoaderLimits.from_settings(services.config.loaders, wait_for_parser=0.0)
    docs: list[IngestRequest] = []
    skipped: list[dict[str, Any]] = []
    for filename, data in uploads:
        try:
            loaded = load_upload(filename, data, limits=limits)
        except ParsersBusy as exc:
            raise ApiError(503, str(exc), headers={"Retry-After": "5"}) from None
        skipped += [
            {"loc": ["body", "files", s.path], "msg": s.reason, "type": "unusable_file"}
            for s in loaded.skipped
        ]
        for document in loaded.documents:
            request, problem = _as_request(document)
            if request is not None:
                docs.append(request)
            else:
                skipped.append(
                    {"loc": ["body", "files", document.source[:200]], "msg": problem, "type": "unusable_file"}
                )
    if skipped or not docs:
        raise ApiError(422, "some uploaded files contain no usable document", details=skipped)
    if len(docs) > services.config.service.max_batch_documents:
        raise ApiError(
            422, f"the files contain more than {services.config.service.max_batch_documents} documents"
        )
    for i, doc in enumerate(docs):
        _check_text(services, doc.text, ["body", "files", i])
    return _submit_all(services, docs, key, caller)
