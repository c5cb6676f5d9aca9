"""``GET /snos`` (filters, pagination) and ``GET /snos/{id}``: the SNO JSON of the store."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from cns.api.deps import ServicesDep
from cns.api.schemas import ItemPage
from cns.services.queries import list_snos

router = APIRouter(tags=["snos"])


@router.get("/snos", response_model=ItemPage)
def get_snos(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: Annotated[Literal["candidate", "active", "archived"] | None, Query()] = None,
    min_trust: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    source: Annotated[str | None, Query(max_length=2000)] = None,
) -> ItemPage:
    """SNOs oldest first; each item is the SNO's JSON (``metadata.source`` = the ingested source)."""
    page = list_snos(
        services.store, limit=limit, offset=offset, status=status, min_trust=min_trust, source=source
    )
    return ItemPage(items=page.items, total=page.total, limit=limit, offset=offset)


@router.get("/snos/{sno_id}")
def get_sno(sno_id: str, services: ServicesDep) -> dict[str, Any]:
    """One SNO (404 if absent)."""
    return services.store.get(sno_id).to_dict()
