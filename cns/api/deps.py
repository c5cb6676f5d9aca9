"""Reusable dependencies: the per-app services, the API-key check, the Idempotency-Key header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from cns.api.errors import ApiError
from cns.api.readiness import ReadinessProbe
from cns.api.stored import NOT_BLANK
from cns.config.settings import CNSConfig
from cns.logging_setup import get_logger
from cns.services.apikeys import ApiKeyInfo, verify_api_key
from cns.services.jobs import MAX_IDEMPOTENCY_KEY_CHARS
from cns.services.publisher import Publisher
from cns.store.sql import SQLStore

log = get_logger(__name__)


@dataclass
class Services:
    """Everything a route needs; built once by ``create_app`` and kept on ``app.state``."""

    config: CNSConfig
    store: SQLStore
    publisher: Publisher
    readiness: ReadinessProbe


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def require_api_key(
    services: ServicesDep,
    x_api_key: Annotated[str | None, Header(description="API key (required when auth.enabled)")] = None,
) -> ApiKeyInfo | None:
    """On write routes: a valid, unrevoked key when ``auth.enabled``; nothing otherwise."""
    if not services.config.auth.enabled:
        return None
    info = verify_api_key(services.store, x_api_key)
    if info is None:
        log.info("api.auth_failed", presented=bool(x_api_key))
        raise ApiError(
            401,
            "a valid API key is required (header X-API-Key; create one with `cns apikey create`)",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    return info


WriteAccess = Annotated[ApiKeyInfo | None, Depends(require_api_key)]


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=MAX_IDEMPOTENCY_KEY_CHARS,
            json_schema_extra=NOT_BLANK,  # a blank key is a 400 (documented, not a 422)
            description="replaying the same key and body returns the same job; another body → 422",
        ),
    ] = None,
) -> str | None:
    if key is not None and not key.strip():
        raise ApiError(400, "Idempotency-Key must not be blank")
    return key


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
