"""Who is calling: the API key of a request, verified once, before the rate limit.

The rate limiter must know whether a key is *valid* before it picks a bucket: keyed on the
claimed key id, anyone could mint fresh ids for unlimited attempts, or spend a real key's
budget with a wrong secret and lock its owner out. So the key is verified here (in a worker
thread: it is a database read) and the verdict is kept on the request scope; the route
dependencies in :mod:`cns.api.deps` reuse it instead of verifying again.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import anyio

from cns.services.apikeys import ApiKeyInfo, verify_api_key

Scope = MutableMapping[str, Any]
_CHECKED = "api_key_checked"
_INFO = "api_key"


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _services(scope: Scope) -> Any:
    app = scope.get("app")
    return getattr(getattr(app, "state", None), "services", None)


def verified_in_scope(scope: Scope) -> tuple[bool, ApiKeyInfo | None]:
    """(already checked?, the verified key or None) as left by :func:`authenticate`."""
    state = scope.get("state") or {}
    return bool(state.get(_CHECKED)), state.get(_INFO)


def remember(scope: Scope, info: ApiKeyInfo | None) -> None:
    state = scope.setdefault("state", {})
    state[_CHECKED] = True
    state[_INFO] = info


async def authenticate(scope: Scope) -> ApiKeyInfo | None:
    """The active key presented by this request, or None (no header, wrong, revoked, auth off)."""
    checked, info = verified_in_scope(scope)
    if checked:
        return info
    presented = header(scope, b"x-api-key")
    services = _services(scope)
    info = None
    if presented and services is not None and services.config.auth.enabled:
        info = await anyio.to_thread.run_sync(verify_api_key, services.store, presented)
    remember(scope, info)
    return info


def client_address(scope: Scope) -> str:
    """The peer address (uvicorn rewrites it from X-Forwarded-For only for trusted proxies)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
