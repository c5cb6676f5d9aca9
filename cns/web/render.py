"""Render a page: the Jinja2 environment (autoescape on for every template) and the response headers.

Autoescape is on for every template, whatever its name, so any text that came from a document —
a hypothesis, a claim, a file name — is shown as text: ``<script>`` in a document arrives in the
browser as ``&lt;script&gt;``. The only markup inserted unescaped is SVG this package drew itself
(:mod:`cns.web.svg`, which escapes its labels, and the reasoning graph, which holds only claim
ids). The Content-Security-Policy header allows scripts from this server only, a second line
of defence should anything ever slip through.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader

from cns.services.lookup import file_label
from cns.version import __version__
from cns.web.session import COOKIE, Viewer, cookie_options
from cns.web.views import iso_day

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _fmt(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("cns.web", "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["fmt"] = _fmt
    env.filters["day"] = iso_day
    env.filters["filename"] = file_label  # a source path shown as its file name
    env.globals["version"] = __version__
    return env


def secure_request(request: Request) -> bool:
    """Whether the browser reached us over https (uvicorn sets the scheme from trusted proxies)."""
    return request.url.scheme == "https"


def security_headers(response: HTMLResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"


def page(
    request: Request, viewer: Viewer | None, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """The rendered ``template`` with the visitor, its CSRF token and the security headers."""
    html = environment().get_template(template).render(request=request, viewer=viewer, **context)
    response = HTMLResponse(html, status_code=status)
    security_headers(response)
    new_cookie = getattr(request.state, "new_cookie", None)
    if new_cookie:
        response.set_cookie(COOKIE, new_cookie, **cookie_options(secure_request(request)))  # type: ignore[arg-type]
    return response
