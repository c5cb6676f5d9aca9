"""One JSON error body for every error the API returns, so a client handles every failure one way.

Shape::

    {"error": {"status": 422, "type": "validation_error", "message": "...",
               "details": [{"loc": ["body", "text"], "msg": "...", "type": "..."}],
               "request_id": "..."}}

FastAPI's validation errors are reshaped into it (without echoing the offending ``input``, which
may be a whole document or a secret), and so are Starlette's 404/405, CNS errors, and anything
unexpected (a 500 that says nothing about internals). Middleware answers (413, 429) use
:func:`error_body` too.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cns.errors import (
    AmbiguousIdError,
    BrokerUnavailable,
    CNSError,
    ConfigError,
    DocumentNotFoundError,
    JobNotFoundError,
    ModelsBusyError,
    PairNotFoundError,
    SNONotFoundError,
    StoreError,
    ValidationError,
)
from cns.logging_setup import get_logger
from cns.services.jobs import IdempotencyKeyReused

log = get_logger(__name__)

TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """Raised by routes and dependencies; rendered in the one error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}
        self.error_type = error_type or TYPES.get(status, "error")


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None


def error_body(
    status: int,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    error_type: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "type": error_type or TYPES.get(status, "error"),
            "message": message,
            "details": details or [],
            "request_id": request_id or current_request_id(),
        }
    }


def error_bytes(status: int, message: str) -> bytes:
    return json.dumps(error_body(status, message)).encode("utf-8")


def _response(error: ApiError) -> JSONResponse:
    body = error_body(error.status, error.message, details=error.details, error_type=error.error_type)
    return JSONResponse(body, status_code=error.status, headers=error.headers)


#: (error class, status, error type) — first match wins, so subclasses come before their bases.
_PASS_THROUGH: tuple[tuple[type[CNSError], int, str | None], ...] = (
    (IdempotencyKeyReused, 422, "idempotency_key_reused"),
    (SNONotFoundError, 404, None),
    (PairNotFoundError, 404, None),
    (DocumentNotFoundError, 404, None),
    (JobNotFoundError, 404, None),
    (AmbiguousIdError, 409, "ambiguous_id"),
    (ValidationError, 400, None),
)


def from_cns_error(exc: CNSError) -> ApiError:
    """Map a CNS error to an HTTP status (secrets never appear in CNS messages)."""
    if isinstance(exc, BrokerUnavailable):
        details = [{k: v for k, v in exc.details.items() if k in ("job_id", "accepted_job_ids")}]
        return ApiError(503, exc.message, details=details, headers={"Retry-After": "5"})
    if isinstance(exc, ModelsBusyError):
        return ApiError(503, exc.message, headers={"Retry-After": "10"})
    for cls, status, error_type in _PASS_THROUGH:
        if isinstance(exc, cls):
            return ApiError(status, exc.message, error_type=error_type, details=_field_details(exc))
    if isinstance(exc, StoreError):
        return ApiError(503, "the database is unavailable; retry later", headers={"Retry-After": "5"})
    message = (
        "the service is misconfigured; see the server log" if isinstance(exc, ConfigError) else exc.message
    )
    return ApiError(500, message)


def _field_details(exc: CNSError) -> list[dict[str, Any]]:
    """``[{"loc": ["body", field], ...}]`` when a CNS validation error names the offending field;
    for an ambiguous id prefix, one ``{"id", "files"}`` per candidate, so a client can choose."""
    if isinstance(exc, AmbiguousIdError):
        return [{"id": cid, "files": list(files)} for cid, files in exc.details.get("candidates") or []]
    field = exc.details.get("field")
    if not isinstance(exc, ValidationError) or not isinstance(field, str):
        return []
    return [{"loc": ["body", field], "msg": exc.message, "type": "value_error"}]


def validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
        for err in exc.errors()
    ]


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the same body."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _response(ApiError(422, "the request is invalid", details=validation_details(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else TYPES.get(exc.status_code, "error")
        return _response(ApiError(exc.status_code, message, headers=dict(exc.headers or {})))

    @app.exception_handler(CNSError)
    async def _cns(_: Request, exc: CNSError) -> JSONResponse:
        error = from_cns_error(exc)
        if error.status >= 500:
            log.warning("api.error", status=error.status, error=type(exc).__name__)
        return _response(error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette runs this handler outermost, after the request-context middleware has unbound
        # the request id; that middleware leaves the id in the request state for exactly this case.
        request_id = getattr(request.state, "request_id", None)
        log.error("api.unhandled_error", error=type(exc).__name__, request_id=request_id, exc_info=exc)
        body = error_body(500, "internal server error", request_id=request_id)
        headers = {"X-Request-ID": request_id} if request_id else None
        return JSONResponse(body, status_code=500, headers=headers)
