"""``create_app(config)``: the FastAPI application of a CNS deployment ("CNS 2.0 API").

Nothing is opened at import time. At startup the API builds its runtime with
:func:`cns.services.runtime.build_runtime` (role ``api``), the builder the CLI and the workers use:
the store after a bounded wait for the database, a workflow manager that loads models only when a
request needs them. The publisher is built here on a Celery app with the API's short socket
timeouts and handed to the runtime. Tests inject a store and a publisher instead.

Middleware order, outermost first: request id + access log → rate limit → body-size limit, so
even a 413 or 429 carries a request id and the one error shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from threading import Lock

from fastapi import FastAPI

from cns.api import docs, errors
from cns.api.deps import Services
from cns.api.metrics import build_registry
from cns.api.middleware import BodySizeLimitMiddleware, RateLimitMiddleware, RequestContextMiddleware
from cns.api.ratelimit import Limiter, RateLimiter
from cns.api.readiness import ReadinessProbe
from cns.api.routes import documents, health, ingest, pairs, search, snos, tasks
from cns.api.shared_ratelimit import SharedRateLimiter
from cns.config.settings import CNSConfig, get_config
from cns.logging_setup import get_logger
from cns.ports import Publisher
from cns.services.disk_space import check_data_dir
from cns.services.runtime import Runtime, build_runtime
from cns.store.sql import SQLStore
from cns.version import __version__
from cns.worker.celery_app import QUEUE, make_celery
from cns.worker.publisher import CeleryPublisher
from cns.worker.redis_guard import check_broker, check_broker_at_startup, guard_mode

log = get_logger(__name__)


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


def data_dir_checks(config: CNSConfig) -> dict[str, Callable[[], object]]:
    """``/readyz`` reports a data dir short of free space (``service.data_dir_min_free_mb``)."""
    if config.service.data_dir_min_free_mb <= 0:
        return {}
    return {"data_dir": lambda: check_data_dir(config)}


def rate_limiter(config: CNSConfig, *, real_broker: bool) -> Limiter:
    """Buckets in the broker's Redis, shared by every API process; in-process without a real Redis."""
    local = RateLimiter(config.service.rate_limit_per_minute)
    if real_broker and local.enabled and config.broker_url.startswith(("redis://", "rediss://", "unix://")):
        return SharedRateLimiter(config.broker_url, local)
    return local


def create_app(
    config: CNSConfig | None = None,
    *,
    store: SQLStore | None = None,
    publisher: Publisher | None = None,
    readiness: ReadinessProbe | None = None,
    runtime: Runtime | None = None,
    model_lock: Lock | None = None,
) -> FastAPI:
    """The app; ``runtime`` (with its store) replaces the one the API would build, and stays its
    owner's to close. ``cns ui`` passes its single-machine runtime so that the pages, the search
    and the in-process jobs share one copy of the models, used one at a time (``model_lock``)."""
    config = config or get_config()
    limiter = rate_limiter(config, real_broker=publisher is None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if publisher is None:  # a real broker: refuse an unsafe Redis before serving (R19)
            check_broker_at_startup(config, "api")
        the_publisher = publisher if publisher is not None else default_publisher(config)
        # an injected store stays its owner's to close (the runtime closes only what it opened)
        the_runtime = (
            runtime
            if runtime is not None
            else build_runtime(config, "api", store=store, publisher=the_publisher)
        )
        the_store = the_runtime.store
        extra = {**(broker_checks(config) if publisher is None else {}), **data_dir_checks(config)}
        probe = (
            readiness
            if readiness is not None
            else ReadinessProbe(the_store, the_publisher, extra_checks=extra)
        )
        app.state.services = Services(
            config, the_store, the_publisher, probe, the_runtime, model_lock=model_lock
        )
        app.state.metrics_registry = build_registry(the_store, the_publisher)
        log.info("api.started", profile=config.profile, auth=config.auth.enabled, store=the_store.url)
        try:
            yield
        finally:
            if isinstance(limiter, SharedRateLimiter):
                await limiter.aclose()
            if runtime is None:
                the_runtime.close()

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
    for module in (ingest, tasks, snos, pairs, search, documents, health):
        app.include_router(module.router)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=config.service.max_body_bytes,
        read_timeout=config.service.body_read_timeout_seconds,
    )
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    app.add_middleware(RequestContextMiddleware)
    return app
