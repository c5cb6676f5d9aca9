"""Reusable dependencies: the per-app services, the API-key check, the Idempotency-Key header.

All of them are ``async``: none does I/O (the key is verified once, in a worker thread, by
:func:`cns.api.auth.authenticate`), and FastAPI runs every plain ``def`` dependency in the thread
pool — a hop to a thread and back per dependency per request, which under load cost more than
the dependencies themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from threading import Lock
from typing import Annotated

import anyio
from fastapi import Depends, Header, Request

from cns.api.auth import authenticate
from cns.api.errors import ApiError
from cns.api.readiness import ReadinessProbe
from cns.api.stored import NOT_BLANK
from cns.config.settings import CNSConfig
from cns.errors import ModelsBusyError
from cns.logging_setup import get_logger
from cns.ports import Publisher
from cns.services.apikeys import ApiKeyInfo
from cns.services.jobs import MAX_IDEMPOTENCY_KEY_CHARS
from cns.services.runtime import Runtime
from cns.store.sql import SQLStore

log = get_logger(__name__)


#: Submissions one API process runs at once in worker threads (each holds a database connection;
#: the store's pool keeps 10). More threads would not make one process faster — they share one
#: interpreter — but would fight over connections and the interpreter lock; further requests
#: wait their turn on the event loop, where waiting costs nothing.
SUBMISSION_THREADS = 8
#: seconds a request waits for models that an in-process job uses (``cns ui``) before a 503
MODEL_WAIT_SECONDS = 30.0


@dataclass
class Services:
    """Everything a route needs; built once by ``create_app`` (in its lifespan) and kept on ``app.state``."""

    config: CNSConfig
    store: SQLStore
    publisher: Publisher
    readiness: ReadinessProbe
    #: the API's runtime (its manager loads models only when a request needs them); under
    #: ``cns ui`` the single-machine runtime whose models the in-process jobs use
    runtime: Runtime
    submitters: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(SUBMISSION_THREADS)
    )
    #: held while a request uses the runtime's models when something else in the process uses
    #: them too (``cns ui``: the in-process job runner); None in the service
    model_lock: Lock | None = None
    #: how long a request waits for ``model_lock`` before it answers 503
    model_wait_seconds: float = MODEL_WAIT_SECONDS

    @contextmanager
    def using_models(self) -> Iterator[None]:
        """While a request uses the runtime's models: after the in-process job that holds them
        finishes, or :class:`~cns.errors.ModelsBusyError` when that takes longer than
        ``model_wait_seconds`` (a request should not hang for a whole pair search)."""
        if self.model_lock is None:
            yield
            return
        if not self.model_lock.acquire(timeout=self.model_wait_seconds):
            raise ModelsBusyError(
                f"the models are busy with a running job (an upload, a re-score or a pair search) "
                f"for more than {self.model_wait_seconds:g} s; ask again in a moment"
            )
        try:
            yield
        finally:
            self.model_lock.release()


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_key(request: Request) -> ApiKeyInfo | None:
    """The verified key of this request (verified once, usually by the rate-limit middleware)."""
    return await authenticate(request.scope)


def _unauthorised() -> ApiError:
    return ApiError(
        401,
        "a valid API key is required (header X-API-Key; create one with `cns apikey create`)",
        headers={"WWW-Authenticate": "X-API-Key"},
    )


async def require_api_key(
    services: ServicesDep,
    info: Annotated[ApiKeyInfo | None, Depends(current_key)],
    x_api_key: Annotated[str | None, Header(description="API key (required when auth.enabled)")] = None,
) -> ApiKeyInfo | None:
    """On write routes: a valid, unrevoked key with write scope when ``auth.enabled``."""
    if not services.config.auth.enabled:
        return None
    if info is None:
        log.info("api.auth_failed", presented=bool(x_api_key))
        raise _unauthorised()
    if not info.allows("write"):
        raise ApiError(403, f"API key {info.key_id} has scope {info.scope!r}; this route needs 'write'")
    return info


async def require_read_key(
    services: ServicesDep,
    info: Annotated[ApiKeyInfo | None, Depends(current_key)],
    x_api_key: Annotated[
        str | None, Header(description="API key (required on reads in the prod profile)")
    ] = None,
) -> ApiKeyInfo | None:
    """On read routes: any valid key (read scope is enough) when reads are protected (prod)."""
    if not services.config.auth.reads_need_key(services.config.profile):
        return info
    if info is None:
        log.info("api.auth_failed", presented=bool(x_api_key), route="read")
        raise _unauthorised()
    return info


WriteAccess = Annotated[ApiKeyInfo | None, Depends(require_api_key)]
ReadAccess = Annotated[ApiKeyInfo | None, Depends(require_read_key)]


async def idempotency_key(
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
