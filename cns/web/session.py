"""Who is looking at the pages: the session cookie, the CSRF token tied to it, the API key behind it.

A browser cannot send the ``X-API-Key`` header from a plain link or form, so the interface keeps
the key in a cookie set by its login form: HttpOnly (no script on the page can read it),
SameSite=Strict (no other site's page can make the browser send it) and Secure when the page
was served over https. The key is verified on every request with the same check as the API
header, so revoking a key logs its browser sessions out at once, and nothing needs a server-side
session table or a shared secret between several server processes.

With auth off the cookie is a random token: it carries no right, but every form still needs the
CSRF token derived from it. That token is a hash of the cookie value: a page of this site can
embed it, another site can neither read the cookie nor compute the hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cns.services.apikeys import ApiKeyInfo

COOKIE = "cns_ui"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: a browser session lasts at most this long (seconds); logging in again starts a new one
MAX_AGE = 12 * 3600
_CSRF_CONTEXT = b"cns-ui-csrf\x00"


def new_anonymous_token() -> str:
    """A random cookie value for a visitor when auth is off (it grants nothing by itself)."""
    return "anon." + secrets.token_urlsafe(24)


def csrf_token(cookie_value: str) -> str:
    """The CSRF token of a session: derived from the cookie, so it changes with every login."""
    return hashlib.sha256(_CSRF_CONTEXT + cookie_value.encode("utf-8")).hexdigest()


def csrf_valid(cookie_value: str | None, presented: str | None) -> bool:
    """Whether ``presented`` is the CSRF token of the session cookie ``cookie_value``."""
    if not cookie_value or not presented:
        return False
    return hmac.compare_digest(csrf_token(cookie_value), presented)


@dataclass(frozen=True)
class Viewer:
    """The visitor of a page: the verified key (None with auth off) and what they may do."""

    cookie: str
    key: ApiKeyInfo | None
    auth_enabled: bool

    @property
    def can_write(self) -> bool:
        return not self.auth_enabled or (self.key is not None and self.key.allows("write"))

    @property
    def csrf(self) -> str:
        return csrf_token(self.cookie)

    @property
    def label(self) -> str:
        if self.key is None:
            return "no login needed (auth off)"
        return f"{self.key.name} ({self.key.scope})"


def cookie_options(secure: bool) -> dict[str, object]:
    """The attributes of the session cookie (``secure`` when the request came over https)."""
    return {"httponly": True, "samesite": "strict", "secure": secure, "max_age": MAX_AGE, "path": "/"}
