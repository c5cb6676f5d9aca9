"""``/healthz`` (liveness: the process answers), ``/readyz`` (dependencies), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cns.api.deps import ServicesDep
from cns.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Cheap liveness: no I/O, so a slow database never gets the API process restarted."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(services: ServicesDep) -> JSONResponse:
    """Database, broker and a worker canary round-trip; 503 when any fails (shared and cached)."""
    ready, checks = await services.readiness.check_async()
    body = Health(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
