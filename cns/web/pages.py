"""The pages (GET): overview, narratives, one narrative or synthesis, pairs, one pair, syntheses, upload.

Thin: read through :mod:`cns.web.views` and the service layer, render a template. An id in a
URL may be any unique prefix, as on the command line (:mod:`cns.services.lookup`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from cns.api.deps import Services
from cns.api.errors import ApiError
from cns.api.stored import can_exist
from cns.errors import AmbiguousIdError, CNSError, PairNotFoundError, SNONotFoundError
from cns.services.jobs import job_view
from cns.services.lookup import resolve, resolve_narrative
from cns.services.queries import list_pairs, list_syntheses
from cns.services.run import report_thresholds
from cns.synthesis.view import is_synthesis, synthesis_view
from cns.web import views
from cns.web.deps import ServicesDep, ViewerDep
from cns.web.explain import critic_breakdown
from cns.web.overview import near_miss_rows, overview_context
from cns.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, who: ViewerDep, services: ServicesDep) -> HTMLResponse:
    return page(request, who, "overview.html.j2", **overview_context(services.store, services.config))


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/ui/narratives", response_class=HTMLResponse)
def narratives(
    request: Request,
    who: ViewerDep,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(pattern="^(|active|archived|candidate)$")] = "",
    min_trust: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    kind: Annotated[str, Query(pattern="^(|documents|syntheses)$")] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100000)] = 1,
) -> HTMLResponse:
    flt = views.NarrativeFilter(q.strip(), status, min_trust, _day(since), _day(until), kind, page_no)
    found = views.narratives(services.store, flt)
    return page(request, who, "narratives.html.j2", flt=flt, found=found, file_label=views.file_label)


def _not_found(request: Request, who: Any, message: str) -> HTMLResponse:
    return page(request, who, "error.html.j2", status=404, message=message)


@router.get("/ui/narratives/{ref}", response_class=HTMLResponse)
def narrative(request: Request, ref: str, who: ViewerDep, services: ServicesDep) -> HTMLResponse:
    try:
        if not can_exist(ref):
            raise SNONotFoundError(f"no stored narrative matches {ref!r}")
        sno = services.store.get(resolve_narrative(services.store, ref).id)
    except (SNONotFoundError, AmbiguousIdError) as exc:
        return _not_found(request, who, exc.message)
    spans = views.narrative_spans(sno)
    text = views.document_text(services.store, sno)
    whole = text is not None and views.fits(spans, text)
    context: dict[str, Any] = {
        "sno": sno,
        "label": views.file_label(sno),
        "breakdown": critic_breakdown(sno),
        "graph": views.graph_svg(sno),
        "segments": views.document_segments(spans, text if whole else None),
        "whole_text": whole,
        "thresholds": report_thresholds(services.config),
    }
    if is_synthesis(sno):
        parents = [str(p) for p in sno.metadata.get("parent_ids") or []]
        context |= {"view": synthesis_view(sno), "parents": views.labels(services.store, parents)}
        return page(request, who, "synthesis.html.j2", **context)
    return page(request, who, "narrative.html.j2", **context)


def _labelled(
    services: Services, items: list[dict[str, Any]], total: int
) -> tuple[list[dict[str, Any]], int]:
    """Rows of a page of pairs or syntheses with both sides' file labels, and the page count."""
    names = views.labels(services.store, sorted({row[k] for row in items for k in ("sno_a", "sno_b")}))
    rows = [{**row, "label_a": names[row["sno_a"]], "label_b": names[row["sno_b"]]} for row in items]
    return rows, max(1, (total + views.PAGE_SIZE - 1) // views.PAGE_SIZE)


@router.get("/ui/pairs", response_class=HTMLResponse)
def pairs(
    request: Request,
    who: ViewerDep,
    services: ServicesDep,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100000)] = 1,
) -> HTMLResponse:
    size = views.PAGE_SIZE
    found = list_pairs(services.store, limit=size, offset=(page_no - 1) * size)
    rows, pages = _labelled(services, found.items, found.total)
    misses = near_miss_rows(request.app.state.web, services.store, services.config)
    return page(
        request, who, "pairs.html.j2", rows=rows, total=found.total, page_no=page_no, pages=pages, misses=misses,
        thresholds=report_thresholds(services.config),
    )  # fmt: skip


@router.get("/ui/pairs/{ref}", response_class=HTMLResponse)
def pair(request: Request, ref: str, who: ViewerDep, services: ServicesDep) -> HTMLResponse:
    try:
        if not can_exist(ref):
            raise PairNotFoundError(f"no stored pair matches {ref!r}")
        pair_id = resolve(services.store, "pair", ref).id
    except (PairNotFoundError, AmbiguousIdError) as exc:
        return _not_found(request, who, exc.message)
    found = views.pair_page(services.store, pair_id)
    if found is None:
        return _not_found(request, who, f"no stored pair with id {pair_id!r}")
    return page(request, who, "pair.html.j2", p=found, thresholds=report_thresholds(services.config))


@router.get("/ui/syntheses", response_class=HTMLResponse)
def syntheses(
    request: Request,
    who: ViewerDep,
    services: ServicesDep,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100000)] = 1,
) -> HTMLResponse:
    size = views.PAGE_SIZE
    found = list_syntheses(services.store, limit=size, offset=(page_no - 1) * size)
    rows, pages = _labelled(services, found.items, found.total)
    return page(request, who, "syntheses.html.j2", rows=rows, total=found.total, page_no=page_no, pages=pages)


@router.get("/ui/upload", response_class=HTMLResponse)
def upload(request: Request, who: ViewerDep, services: ServicesDep) -> HTMLResponse:
    return page(
        request, who, "upload.html.j2", max_chars=services.config.service.max_text_chars,
        max_documents=services.config.service.max_batch_documents, jobs=views.recent_jobs(services.store),
    )  # fmt: skip


@router.get("/ui/jobs/{job_id}")
def job(job_id: str, who: ViewerDep, services: ServicesDep) -> JSONResponse:  # noqa: ARG001 - login
    """A job's state for the live progress on the pages (the same view as ``GET /tasks/{id}``)."""
    record = services.store.get_job(job_id) if can_exist(job_id) and len(job_id) <= 64 else None
    if record is None:
        raise ApiError(404, f"no job with id {job_id!r}")
    body = job_view(record)
    if body.get("sno_id"):
        try:
            body["label"] = views.file_label(services.store.get(str(body["sno_id"])))
        except CNSError:
            body["label"] = None
    return JSONResponse(body)
