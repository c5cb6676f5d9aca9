"""``GET /snos`` (filters, pagination) and ``GET /snos/{id}``: the SNOs of the store.

A list item is a summary (:mod:`cns.services.summaries`): the hypothesis vector and the graph
stay out unless ``include`` asks for them. ``GET /snos/{id}`` takes any unique id prefix, as the
command line does (:mod:`cns.services.lookup`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from cns.api.deps import ReadAccess, ServicesDep
from cns.api.responses import READ, error_responses
from cns.api.schemas import MAX_OFFSET, ItemPage
from cns.api.stored import can_exist
from cns.errors import SNONotFoundError
from cns.services.lookup import resolve
from cns.services.queries import list_snos
from cns.services.summaries import Include, sno_item
from cns.synthesis.view import is_synthesis, synthesis_view

router = APIRouter(tags=["snos"], responses=error_responses(*READ))

INCLUDE_HELP = (
    "more of each SNO than its summary: `full` (its whole JSON but the vector), `embedding` (the "
    "hypothesis vector); repeat to ask for both"
)


@router.get("/snos", response_model=ItemPage)
def get_snos(
    services: ServicesDep,
    _: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    status: Annotated[Literal["candidate", "active", "archived"] | None, Query()] = None,
    min_trust: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    source: Annotated[str | None, Query(max_length=2000)] = None,
    include: Annotated[list[Include] | None, Query(max_length=2, description=INCLUDE_HELP)] = None,
) -> ItemPage:
    """SNOs oldest first, each as a summary: id, hypothesis, ``source`` (the ingested file),
    document, status, trust and each critic's score, claim and evidence counts; ``synthesis`` and
    ``parent_ids`` for a synthesized one. ``include=full`` / ``include=embedding`` add the rest."""
    if source is not None and not can_exist(source):  # no stored source can match it
        return ItemPage(items=[], total=0, limit=limit, offset=offset)
    page = list_snos(
        services.store, limit=limit, offset=offset, status=status, min_trust=min_trust, source=source
    )
    items = [sno_item(data, include or ()) for data in page.items]
    return ItemPage(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/snos/{sno_id}", responses=error_responses(404, 409))
def get_sno(sno_id: str, services: ServicesDep, _: ReadAccess) -> dict[str, Any]:
    """One SNO by its id or a unique prefix of it (404 if none, 409 with the candidates if several);
    a synthesis also gets ``synthesis``: its sections and provenance."""
    if not can_exist(sno_id):
        raise SNONotFoundError.for_id(sno_id)
    sno = services.store.get(resolve(services.store, "sno", sno_id).id)
    body = sno.to_dict()
    if is_synthesis(sno):
        body["synthesis"] = synthesis_view(sno)
    return body
