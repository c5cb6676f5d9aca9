"""``create_web_app``: the API app plus the pages, their static files and the login redirect.

The pages are added to the API's own app, not served by a second one: they share its store,
publisher, middleware (request ids, rate limit, body-size limit) and error bodies, and a write
from a page is the same job an API client would create.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from cns.api import create_app
from cns.api.readiness import ReadinessProbe
from cns.config.settings import CNSConfig, get_config
from cns.ports import Publisher
from cns.store.sql import SQLStore
from cns.web import actions, ask, pages
from cns.web.deps import LoginRequired
from cns.web.state import WebState

STATIC = Path(__file__).parent / "static"


def install_pages(app: FastAPI, state: WebState | None = None) -> FastAPI:
    """Add the pages to an app made by :func:`cns.api.create_app`."""
    app.state.web = state or WebState()
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(pages.router)
    app.include_router(ask.router)
    app.include_router(actions.router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> RedirectResponse:  # noqa: ARG001
        return RedirectResponse(f"/ui/login?next={quote(exc.next_url, safe='')}", status_code=303)

    return app


def create_web_app(
    config: CNSConfig | None = None,
    *,
    store: SQLStore | None = None,
    publisher: Publisher | None = None,
    readiness: ReadinessProbe | None = None,
    state: WebState | None = None,
) -> FastAPI:
    """The API with the pages (``cns serve``; ``cns ui`` passes its store, job runner and models)."""
    config = config or get_config()
    app = create_app(config, store=store, publisher=publisher, readiness=readiness)
    return install_pages(app, state)
