"""``GET /pairs``, ``GET /pairs/{id}``, ``POST /pairs/search``, ``POST /pairs/{id}/synthesize``, ``GET /syntheses``.

A pair carries both narratives' files and hypotheses (:func:`cns.services.summaries.with_sides`);
a pair id may be any unique prefix of it, as on the command line (:mod:`cns.services.lookup`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from cns.api.deps import IdempotencyKey, ReadAccess, ServicesDep, WriteAccess
from cns.api.responses import READ, WRITE, error_responses
from cns.api.routes.ingest import accepted
from cns.api.schemas import MAX_OFFSET, IngestAccepted, ItemPage, SynthesizeRequest
from cns.api.stored import can_exist
from cns.errors import PairNotFoundError, SNONotFoundError
from cns.services.lookup import resolve
from cns.services.queries import list_pairs, list_syntheses
from cns.services.summaries import with_sides
from cns.services.synthesis_jobs import submit_pair_search, submit_synthesis
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
    """Chiral pairs found so far, highest synthesis potential first, each with both narratives'
    files (``file_a``, ``file_b``) and hypotheses (``hypothesis_a``, ``hypothesis_b``)."""
    page = list_pairs(services.store, limit=limit, offset=offset, min_potential=min_potential)
    return ItemPage(
        items=with_sides(services.store, page.items), total=page.total, limit=limit, offset=offset
    )


def _pair_id(services: ServicesDep, ref: str) -> str:
    if not can_exist(ref):
        raise PairNotFoundError.for_id(ref)
    return resolve(services.store, "pair", ref).id


@router.get("/pairs/{pair_id}", responses=error_responses(404, 409))
def get_pair(pair_id: str, services: ServicesDep, _: ReadAccess) -> dict[str, Any]:
    """One pair by its id or a unique prefix (404 if none, 409 with the candidates if several)."""
    record = services.store.get_pair(_pair_id(services, pair_id))
    if record is None:  # deleted between the lookup and the read
        raise PairNotFoundError.for_id(pair_id)
    return with_sides(services.store, [record.to_dict()])[0]


@router.post(
    "/pairs/search", status_code=202, response_model=IngestAccepted, responses=error_responses(*WRITE)
)
def search_pairs(services: ServicesDep, caller: WriteAccess, key: IdempotencyKey) -> IngestAccepted:
    """Search the population for chiral pairs now, as a job (poll ``GET /tasks/{job_id}``): re-score
    first if the population grew, record the pairs found, queue a synthesis of each pair not in
    cooldown — what the periodic sweep does. Its result counts the pairs and the syntheses queued."""
    submission = submit_pair_search(
        store=services.store,
        publisher=services.publisher,
        config=services.config,
        idempotency_key=key,
        owner=caller.key_id if caller is not None else None,
    )
    return accepted(submission)


@router.post(
    "/pairs/{pair_id}/synthesize",
    status_code=202,
    response_model=IngestAccepted,
    responses=error_responses(*WRITE, 404, 409),
)
def synthesize(
    pair_id: str,
    services: ServicesDep,
    _: WriteAccess,
    key: IdempotencyKey,  # noqa: ARG001 - the per-pair attempt key already deduplicates
    body: Annotated[SynthesizeRequest | None, Body()] = None,
) -> IngestAccepted:
    """Queue a synthesis of a stored pair, by its id or a unique prefix (one queued job per pair and
    attempt)."""
    submission = submit_synthesis(
        store=services.store,
        publisher=services.publisher,
        config=services.config,
        pair_id=_pair_id(services, pair_id),
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
