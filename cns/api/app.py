"""``create_app(config)``: the FastAPI application of a CNS deployment ("CNS 2.0 API").

Nothing is opened at import time. When the store or publisher are not injected (tests inject
fakes), they are built at startup: the store after a bounded wait for the database (anchors
practice 15), the publisher on a Celery app with the API's short socket timeouts.

Middleware order, outermost first: request id + access log → rate limit → body-size limit, so
even a 413 or 429 carries a request id and the one error shape.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cns.api import docs, errors
from cns.api.deps import Services
from cns.api.metrics import build_registry
from cns.api.middleware import BodySizeLimitMiddleware, RateLimitMiddleware, RequestContextMiddleware
from cns.api.ratelimit import RateLimiter
from cns.api.readiness import ReadinessProbe
from cns.api.routes import documents, health, ingest, pairs, snos, tasks
from cns.config.settings import CNSConfig, get_config
from cns.errors import StoreError
from cns.logging_setup import get_logger
from cns.ports import Publisher
from cns.store.sql import SQLStore
from cns.version import __version__
from cns.worker.celery_app import QUEUE, make_celery
from cns.worker.publisher import CeleryPublisher
from cns.worker.redis_guard import check_broker, check_broker_at_startup, guard_mode

log = get_logger(__name__)

STORE_WAIT_SECONDS = 30.0


def open_store_with_retry(config: CNSConfig, wait_seconds: float = STORE_WAIT_SECONDS) -> SQLStore:
    """Open (and migrate) the store, retrying for ``wait_seconds`` while the database starts."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return SQLStore.open(config=config)
        except StoreError as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("api.waiting_for_database", reason=exc.message[:200])
            time.sleep(1.0)


def default_publisher(config: CNSConfig) -> CeleryPublisher:
    return CeleryPublisher(
        make_celery(config, role="api"), deadline_seconds=config.service.publish_timeout_seconds, queue=QUEUE
    )


def broker_checks(config: CNSConfig) -> dict[str, Callable[[], None]]:
    """``/readyz`` re-checks the broker's Redis settings when they are enforced (prod profile)."""
    if guard_mode(config) != "enforce":
        return {}

    def broker_config() -> None:
        check_broker(config, "api")

    return {"broker_config": broker_config}


def create_app(
    config: CNSConfig | None = None,
    *,
    store: SQLStore | None = None,
    publisher: Publisher | None = None,
    readiness: ReadinessProbe | None = None,
) -> FastAPI:
    config = config or get_config()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        if publisher is None:  # a real broker: refuse an unsafe Redis before serving (R19)
            check_broker_at_startup(config, "api")
        # `is None`, not `or`: an empty store is falsy (``len(store) == 0``), and `or` used to open a
        # second, never-closed store behind an injected empty one
        the_store = store if store is not None else open_store_with_retry(config)
        the_publisher = publisher if publisher is not None else default_publisher(config)
        extra = broker_checks(config) if publisher is None else {}
        probe = (
            readiness
            if readiness is not None
            else ReadinessProbe(the_store, the_publisher, extra_checks=extra)
        )
        app.state.services = Services(config, the_store, the_publisher, probe)
        app.state.metrics_registry = build_registry(the_store, the_publisher)
        log.info("api.started", profile=config.profile, auth=config.auth.enabled, store=the_store.url)
        try:
            yield
        finally:
            if owned:
                the_store.close()

    app = FastAPI(
        title="CNS 2.0 API",
        version=__version__,
        description="Chiral Narrative Synthesis: ingest documents, read SNOs, chiral pairs and syntheses.",
        lifespan=lifespan,
        docs_url=None,  # served from local copies of the scripts: `docs.install` below
        redoc_url=None,
    )
    errors.install(app)
    docs.install(app)
    for module in (ingest, tasks, snos, pairs, documents, health):
        app.include_router(module.router)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=config.service.max_body_bytes,
        read_timeout=config.service.body_read_timeout_seconds,
    )
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(config.service.rate_limit_per_minute))
    app.add_middleware(RequestContextMiddleware)
    return app
