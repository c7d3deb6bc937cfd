"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Served
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", response_model=Health)
def healthz() -> Health:
    """The process is up and answering."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "no model loaded yet"}},
)
def readyz(served: Served) -> JSONResponse:
    """Ready once every configured model has a verified snapshot loaded.

    If the store becomes unreachable afterwards the API keeps serving the models it has and
    stays ready, reporting ``store: unreachable``.
    """
    versions = served.versions()
    store = "ok" if served.store_ok else "unreachable"
    if served.ready():
        body = Health(status="ready", models=versions, store=store)
        return JSONResponse(body.model_dump(), status_code=200)
    missing = sorted(mid for mid, v in versions.items() if v is None)
    body = Health(
        status="not ready",
        models=versions,
        store=store,
        detail=f"no snapshot loaded yet for {missing}",
    )
    return JSONResponse(body.model_dump(), status_code=503)
