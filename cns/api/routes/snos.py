"""``GET /snos`` (filters, pagination) and ``GET /snos/{id}``: the SNO JSON of the store."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from cns.api.deps import ReadAccess, ServicesDep
from cns.api.responses import READ, error_responses
from cns.api.schemas import MAX_OFFSET, ItemPage
from cns.api.stored import can_exist
from cns.errors import SNONotFoundError
from cns.services.queries import list_snos
from cns.synthesis.view import is_synthesis, synthesis_view

router = APIRouter(tags=["snos"], responses=error_responses(*READ))


@router.get("/snos", response_model=ItemPage)
def get_snos(
    services: ServicesDep,
    _: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    status: Annotated[Literal["candidate", "active", "archived"] | None, Query()] = None,
    min_trust: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    source: Annotated[str | None, Query(max_length=2000)] = None,
) -> ItemPage:
    """SNOs oldest first; each item is the SNO's JSON (``metadata.source`` = the ingested source)."""
    if source is not None and not can_exist(source):  # no stored source can match it
        return ItemPage(items=[], total=0, limit=limit, offset=offset)
    page = list_snos(
        services.store, limit=limit, offset=offset, status=status, min_trust=min_trust, source=source
    )
    return ItemPage(items=page.items, total=page.total, limit=limit, offset=offset)


@router.get("/snos/{sno_id}", responses=error_responses(404))
def get_sno(sno_id: str, services: ServicesDep, _: ReadAccess) -> dict[str, Any]:
    """One SNO (404 if absent); a synthesis also gets ``synthesis``: its sections and provenance."""
    if not can_exist(sno_id):
        raise SNONotFoundError.for_id(sno_id)
    sno = services.store.get(sno_id)
    body = sno.to_dict()
    if is_synthesis(sno):
        body["synthesis"] = synthesis_view(sno)
    return body
