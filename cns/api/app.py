"""``create_app(config)``: the FastAPI application of a CNS deployment ("CNS 2.0 API").

Nothing is opened at import time. When the store or publisher are not injected (tests inject
fakes), they are built at startup: the store after a bounded wait for the database (anchors
practice 15), the publisher on a Celery app with the API's short socket timeouts.

Middleware order, outermost first: request id + access log → rate limit → body-size limit, so
even a 413 or 429 carries a request id and the one error shape.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cns import __version__
from cns.api import errors
from cns.api.deps import Services
from cns.api.metrics import build_registry
from cns.api.middleware import BodySizeLimitMiddleware, RateLimitMiddleware, RequestContextMiddleware
from cns.api.ratelimit import RateLimiter
from cns.api.readiness import ReadinessProbe
from cns.api.routes import documents, health, ingest, pairs, snos, tasks
from cns.config.settings import CNSConfig, get_config
from cns.errors import StoreError
from cns.logging_setup import get_logger
from cns.services.publisher import CeleryPublisher, Publisher
from cns.store.sql import SQLStore
from cns.worker.celery_app import QUEUE, make_celery

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
        the_store = store or open_store_with_retry(config)
        the_publisher = publisher or default_publisher(config)
        probe = readiness or ReadinessProbe(the_store, the_publisher)
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
    )
    errors.install(app)
    for module in (ingest, tasks, snos, pairs, documents, health):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=config.service.max_body_bytes)
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(config.service.rate_limit_per_minute))
    app.add_middleware(RequestContextMiddleware)
    return app
