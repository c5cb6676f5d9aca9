"""The pages' dependencies: who the visitor is, and the checks every write makes (CSRF, scope).

A page needs a logged-in visitor when ``auth.enabled``: without a valid key cookie it redirects
to the login form. Every POST of the interface checks the CSRF token (form field or
``X-CSRF-Token`` header) against the session cookie, then the key's scope: a read-only key is
refused with 403 even if it crafts the request by hand — hiding the buttons is only a courtesy.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import anyio
from fastapi import Depends, Request

from cns.api.deps import Services, get_services
from cns.api.errors import ApiError
from cns.services.apikeys import ApiKeyInfo, verify_api_key
from cns.web.session import COOKIE, CSRF_FIELD, CSRF_HEADER, Viewer, csrf_valid, new_anonymous_token


class LoginRequired(Exception):
    """Raised by :func:`viewer` for a page that needs a key; answered with a redirect to the login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def _verify(services: Services, presented: str) -> ApiKeyInfo | None:
    return await anyio.to_thread.run_sync(verify_api_key, services.store, presented)


async def current_viewer(request: Request) -> Viewer | None:
    """The visitor, or None when auth is on and no valid key cookie came with the request."""
    services: Services = request.app.state.services
    cookie = request.cookies.get(COOKIE)
    if not services.config.auth.enabled:
        if not cookie or not cookie.startswith("anon."):
            cookie = new_anonymous_token()
            request.state.new_cookie = cookie  # set on the response by the page renderer
        return Viewer(cookie, None, auth_enabled=False)
    if not cookie:
        return None
    info = await _verify(services, cookie)
    return None if info is None else Viewer(cookie, info, auth_enabled=True)


async def viewer(request: Request) -> Viewer:
    """A page's visitor; with auth on and no valid key, a redirect to the login form."""
    found = await current_viewer(request)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(target, safe="/?=&"))
    return found


async def writer(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    """A POST's visitor: a valid CSRF token for this session, and a key that may write."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if getattr(request.state, "new_cookie", None) or not csrf_valid(who.cookie, presented):
        raise ApiError(
            403, "the form's CSRF token is missing or does not match this session; reload the page"
        )
    if not who.can_write:
        raise ApiError(
            403, f"API key {who.key.key_id if who.key else ''} is read-only: this action needs 'write'"
        )
    return who


ViewerDep = Annotated[Viewer, Depends(viewer)]
WriterDep = Annotated[Viewer, Depends(writer)]
ServicesDep = Annotated[Services, Depends(get_services)]
