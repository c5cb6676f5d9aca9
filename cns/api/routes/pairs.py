"""``GET /pairs``, ``POST /pairs/{id}/synthesize`` and ``GET /syntheses``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from cns.api.deps import IdempotencyKey, ReadAccess, ServicesDep, WriteAccess
from cns.api.errors import ApiError
from cns.api.responses import READ, WRITE, error_responses
from cns.api.routes.ingest import accepted
from cns.api.schemas import MAX_OFFSET, IngestAccepted, ItemPage, SynthesizeRequest
from cns.api.stored import can_exist
from cns.errors import SNONotFoundError
from cns.services.queries import list_pairs, list_syntheses
from cns.services.synthesis_jobs import submit_synthesis
from cns.store import SQLStore
from cns.synthesis.view import synthesis_view

router = APIRouter(tags=["pairs"], responses=error_responses(*READ))


@router.get("/pairs", response_model=ItemPage)
def get_pairs(
    services: ServicesDep,
    _: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    min_potential: Annotated[float | None, Query(ge=0.0)] = None,
) -> ItemPage:
    """Chiral pairs found so far, highest synthesis potential first."""
    page = list_pairs(services.store, limit=limit, offset=offset, min_potential=min_potential)
    return ItemPage(items=page.items, total=page.total, limit=limit, offset=offset)


@router.post(
    "/pairs/{pair_id}/synthesize",
    status_code=202,
    response_model=IngestAccepted,
    responses=error_responses(*WRITE, 404),
)
def synthesize(
    pair_id: str,
    services: ServicesDep,
    _: WriteAccess,
    key: IdempotencyKey,  # noqa: ARG001 - the per-pair attempt key already deduplicates
    body: Annotated[SynthesizeRequest | None, Body()] = None,
) -> IngestAccepted:
    """Queue a synthesis of a stored pair (one queued job per pair and attempt)."""
    if not can_exist(pair_id) or services.store.get_pair(pair_id) is None:
        raise ApiError(404, f"no pair with id {pair_id!r}")
    submission = submit_synthesis(
        store=services.store,
        publisher=services.publisher,
        config=services.config,
        pair_id=pair_id,
        force=bool(body and body.force),
    )
    return accepted(submission)


@router.get("/syntheses", response_model=ItemPage)
def get_syntheses(
    services: ServicesDep,
    _: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    accepted_only: Annotated[bool | None, Query(alias="accepted")] = None,
) -> ItemPage:
    """Finished synthesis attempts, newest first (``sno_id`` is the synthesised SNO).

    ``synthesis`` is the stored SNO's reader view — hypothesis, sections, references, the
    provenance of every claim and the audit — or null when the attempt produced no SNO.
    """
    page = list_syntheses(services.store, limit=limit, offset=offset, accepted=accepted_only)
    items = [{**item, "synthesis": _view(services.store, item.get("sno_id"))} for item in page.items]
    return ItemPage(items=items, total=page.total, limit=limit, offset=offset)


def _view(store: SQLStore, sno_id: str | None) -> dict[str, Any] | None:
    if not sno_id or not can_exist(sno_id):
        return None
    try:
        return synthesis_view(store.get(sno_id))
    except SNONotFoundError:
        return None
