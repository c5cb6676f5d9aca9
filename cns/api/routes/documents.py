"""``DELETE /documents/{id}``: the document and everything derived from it, in one transaction.

SNOs, syntheses derived from them, their pairs and attempts go with it; deleted SNOs leave
tombstones in the change feed, so every synced vector index drops them on its next sync.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from cns.api.deps import ServicesDep, WriteAccess
from cns.api.errors import ApiError
from cns.api.responses import WRITE, error_responses
from cns.api.schemas import DeletionResult
from cns.api.stored import can_exist
from cns.logging_setup import get_logger

router = APIRouter(tags=["documents"], responses=error_responses(*WRITE, 404))
log = get_logger(__name__)


@router.delete("/documents/{document_id}", response_model=DeletionResult)
def delete_document(document_id: str, services: ServicesDep, caller: WriteAccess) -> DeletionResult:
    """Delete a document and everything derived from it: the caller's own, or any with an admin key."""
    if caller is not None and not caller.allows("admin") and can_exist(document_id):
        exists, owner = services.store.document_owner(document_id)
        if exists and owner != caller.key_id:
            raise ApiError(
                403,
                f"document {document_id!r} was submitted by another API key; only it or an admin key "
                "may delete it",
            )
    report = services.store.delete_document(document_id) if can_exist(document_id) else None
    if report is None or (not report.document_removed and not report.all_sno_ids):
        raise ApiError(404, f"no document with id {document_id!r}")
    log.info(
        "document.deleted", document_id=document_id, snos=len(report.all_sno_ids), pairs=len(report.pair_ids)
    )
    return DeletionResult(**asdict(report))
