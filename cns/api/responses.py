"""The error responses each operation can give, declared in the OpenAPI document.

Without these declarations FastAPI documents every 422 as ``{"detail": [...]}`` (a shape the API
never sends, see :mod:`cns.api.errors`) and leaves 400/401/404/413/429/503 undocumented, so a
client generated from the spec, or a contract test such as schemathesis, would be told the wrong
thing. Every error body is the one shape built by :func:`cns.api.errors.error_body`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_DESCRIPTIONS = {
    400: "malformed request: unparsable body or Content-Length, blank field or Idempotency-Key",
    401: "a valid X-API-Key is required (auth.enabled; reads too in the prod profile)",
    403: "the API key's scope does not allow this (read < write < admin), or the document is another key's",
    404: "no such resource",
    409: "the id prefix matches several stored objects: `details` lists each candidate's id and files",
    413: "request body larger than service.max_body_bytes",
    422: "the request does not match the schema or a configured limit",
    429: "rate limit exceeded (see Retry-After)",
    503: "the database or the task broker is unavailable, or every file parser is busy (see Retry-After)",
}


class ErrorInfo(BaseModel):
    """What went wrong; ``details`` holds per-field problems (``loc``, ``msg``, ``type``) or ids."""

    model_config = ConfigDict(extra="forbid")

    status: int = Field(description="the HTTP status, repeated for clients that only keep the body")
    type: str = Field(description="machine-readable error type, e.g. validation_error")
    message: str
    details: list[dict[str, Any]]
    request_id: str | None = Field(description="also in the X-Request-ID response header")


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorInfo


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting ``statuses`` with :class:`ErrorBody`."""
    return {status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses}


#: Every routed operation with parameters can answer these (middleware and validation).
COMMON = (422, 429)
#: Operations that read the database (a key is required on reads in the prod profile).
READ = (*COMMON, 401, 503)
#: Operations with a request body or side effects (body limit, auth and scope, blank-field checks).
WRITE = (400, 403, 413, *READ)
