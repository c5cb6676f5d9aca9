"""``create_web_app``: the API app plus the pages, their static files and the login redirect.

The pages are added to the API's own app, not served by a second one: they share its store,
publisher, middleware (request ids, rate limit, body-size limit) and error bodies, and a write
from a page is the same job an API client would create.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from cns.api import create_app
from cns.api.errors import error_body
from cns.api.readiness import ReadinessProbe
from cns.config.settings import CNSConfig, get_config
from cns.ports import Publisher
from cns.services.runtime import Runtime
from cns.store.sql import SQLStore
from cns.web import actions, ask, pages
from cns.web.deps import LoginRequired
from cns.web.state import WebState

STATIC = Path(__file__).parent / "static"
#: what a page's script is told when its login is gone (the cookie expired, or the key was revoked)
LOGIN_EXPIRED = "your login has expired or its key was revoked: log in again"


def wants_json(request: Request) -> bool:
    """A request from a page's script (job progress, uploads), not a browser navigating: a redirect
    to the login form would reach the script as an HTML page it cannot read, so it gets a 401."""
    return request.url.path.startswith("/ui/jobs/") or "application/json" in request.headers.get("accept", "")


def install_pages(app: FastAPI, state: WebState | None = None) -> FastAPI:
    """Add the pages to an app made by :func:`cns.api.create_app`."""
    app.state.web = state or WebState()
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(pages.router)
    app.include_router(ask.router)
    app.include_router(actions.router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        login = f"/ui/login?next={quote(exc.next_url, safe='')}"
        if wants_json(request):
            body = error_body(
                401, LOGIN_EXPIRED, details=[{"login": "/ui/login"}], error_type="login_required"
            )
            return JSONResponse(body, status_code=401)
        return RedirectResponse(login, status_code=303)

    return app


def create_web_app(
    config: CNSConfig | None = None,
    *,
    store: SQLStore | None = None,
    publisher: Publisher | None = None,
    readiness: ReadinessProbe | None = None,
    state: WebState | None = None,
    runtime: Runtime | None = None,
) -> FastAPI:
    """The API with the pages (``cns serve``; ``cns ui`` passes its runtime, job runner and models,
    and the pages' model lock, so every model user of the process takes turns on one copy)."""
    config = config or get_config()
    app = create_app(
        config,
        store=store,
        publisher=publisher,
        readiness=readiness,
        runtime=runtime,
        model_lock=state.model_lock if state is not None and runtime is not None else None,
    )
    return install_pages(app, state)
