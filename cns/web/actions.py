"""What the pages change (POST): log in and out, upload, synthesize a pair, search for pairs now.

Every write goes through the API's own route bodies and the service layer — an upload is
``POST /ingest`` / ``POST /ingest/files`` (:func:`cns.api.routes.ingest.ingest`,
:func:`~cns.api.routes.ingest.submit_uploads`), "synthesize now" is
:func:`~cns.services.synthesis_jobs.submit_synthesis`, "find pairs now" is
:func:`~cns.services.synthesis_jobs.submit_pair_search` — so the interface adds no rule of its own
and its errors are the API's error bodies.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import anyio
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cns.api.errors import ApiError
from cns.api.routes.ingest import accept_one, accepted, submit_uploads
from cns.api.schemas import IngestRequest
from cns.errors import AmbiguousIdError, PairNotFoundError
from cns.services.apikeys import verify_api_key
from cns.services.lookup import resolve
from cns.services.synthesis_jobs import submit_pair_search, submit_synthesis
from cns.web.deps import ServicesDep, WriterDep, current_viewer
from cns.web.render import page, secure_request
from cns.web.session import (
    COOKIE,
    CSRF_FIELD,
    cookie_options,
    csrf_token,
    csrf_valid,
    new_anonymous_token,
)

router = APIRouter(include_in_schema=False)


def _local_path(target: str) -> str:
    """Only a path of this site is a place to go back to after logging in (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/ui/login", response_class=HTMLResponse)
async def login_form(request: Request, services: ServicesDep, next: str = "/") -> HTMLResponse:
    cookie = request.cookies.get(COOKIE) or ""
    if not cookie.startswith("anon."):  # a fresh pre-login session: the form's CSRF token is tied to it
        cookie = new_anonymous_token()
        request.state.new_cookie = cookie
    who = await current_viewer(request) if not services.config.auth.enabled else None
    return page(
        request, who, "login.html.j2", next_url=_local_path(next), login_csrf=csrf_token(cookie),
        auth_enabled=services.config.auth.enabled,
    )  # fmt: skip


@router.post("/ui/login")
async def login(
    request: Request,
    services: ServicesDep,
    api_key: Annotated[str, Form(max_length=200)],
    presented_csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    """Check the key like the ``X-API-Key`` header is checked; on success keep it in the cookie."""
    if not csrf_valid(request.cookies.get(COOKIE), presented_csrf):
        raise ApiError(403, "the login form's CSRF token is missing or does not match; reload the page")
    info = await anyio.to_thread.run_sync(verify_api_key, services.store, api_key.strip())
    if info is None:
        return page(
            request, None, "login.html.j2", status=401, next_url=_local_path(next_url),
            login_csrf=presented_csrf, auth_enabled=services.config.auth.enabled,
            error="that key is not valid (unknown, mistyped or revoked): create one with `cns apikey create NAME`",
        )  # fmt: skip
    response = RedirectResponse(_local_path(next_url), status_code=303)
    response.set_cookie(COOKIE, api_key.strip(), **cookie_options(secure_request(request)))  # type: ignore[arg-type]
    return response


@router.post("/ui/logout")
def logout(request: Request, who: WriterDep) -> Response:  # noqa: ARG001 - CSRF-checked
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=secure_request(request), httponly=True, samesite="strict")
    return response


@router.post("/ui/upload/text")
def upload_text(
    services: ServicesDep,
    who: WriterDep,
    source: Annotated[str, Form(max_length=2000)],
    text: Annotated[str, Form()],
) -> JSONResponse:
    """Pasted text: ``POST /ingest`` with the visitor's key as the submitter."""
    if not source.strip() or not text.strip():
        raise ApiError(400, "give the text a name and paste some text")
    done = accept_one(services, IngestRequest(source=source, text=text), None, who.key)
    return JSONResponse(done.model_dump(), status_code=202)


@router.post("/ui/upload/files")
def upload_files(
    services: ServicesDep, who: WriterDep, files: Annotated[list[UploadFile], File()]
) -> JSONResponse:
    """Dropped or chosen files: ``POST /ingest/files`` (same parsers, limits and errors)."""
    done = submit_uploads(services, [(f.filename, f.file.read()) for f in files], None, who.key)
    return JSONResponse(done.model_dump(), status_code=202)


@router.post("/ui/pairs/{ref}/synthesize")
def synthesize(request: Request, ref: str, services: ServicesDep, who: WriterDep) -> Response:  # noqa: ARG001
    """Synthesize now: the ``synthesize`` job of ``POST /pairs/{id}/synthesize`` (forced past the
    cooldown: a person asked for it); answers JSON to a script, a redirect to a form."""
    try:
        pair_id = resolve(services.store, "pair", ref).id
    except (PairNotFoundError, AmbiguousIdError) as exc:
        raise ApiError(404, exc.message) from None
    submission = submit_synthesis(
        store=services.store,
        publisher=services.publisher,
        config=services.config,
        pair_id=pair_id,
        force=True,
    )
    body = accepted(submission)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(body.model_dump(), status_code=202)
    return RedirectResponse(f"/ui/pairs/{pair_id}?job={quote(body.job_id)}", status_code=303)


@router.post("/ui/find-pairs")
def find_pairs(services: ServicesDep, who: WriterDep) -> Response:
    """Run now what celery beat runs periodically — re-score if the population grew, search pairs,
    schedule their syntheses — as the ``pair_search`` job of ``POST /pairs/search``, so the page can
    watch it finish (in the worker, or in this process's job thread under ``cns ui``)."""
    submission = submit_pair_search(
        store=services.store,
        publisher=services.publisher,
        config=services.config,
        owner=who.key.key_id if who.key is not None else None,
    )
    return RedirectResponse(f"/ui/pairs?job={quote(submission.job.job_id)}", status_code=303)
