"""The FastAPI application: ``create_app`` wires routes to a store; nothing happens at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from prometheus_client import multiprocess as multiprocess_collector
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.reloader import ServedModels
from api.routes import admin, dashboard, feedback, health, metrics, model, predict
from api.schemas import ErrorBody
from api.security import ApiKeys, enforced_only
from streamwise import __version__
from streamwise.clock import Clock
from streamwise.errors import (
    InvalidEvent,
    ModelNotReady,
    PredictionExpired,
    StreamwiseError,
    Unauthorized,
    UnknownModel,
    UnknownPrediction,
)
from streamwise.feedback import Outbox, PredictionIds
from streamwise.ports import SnapshotStore
from streamwise.quality import SensorCatalog
from streamwise.spec import ModelSpec
from streamwise.telemetry import ApiMetrics, ServedModelsCollector

log = logging.getLogger(__name__)


def _status_of(err: StreamwiseError) -> int:
    if isinstance(err, UnknownModel | UnknownPrediction):
        return 404
    if isinstance(err, Unauthorized):
        return 401
    if isinstance(err, PredictionExpired):
        return 410
    if isinstance(err, InvalidEvent):
        return 413 if err.reason == "size" else 422
    if isinstance(err, ModelNotReady):
        return 503
    return 503  # store or bus trouble: retry later


async def _reload_forever(served: ServedModels, interval_s: float) -> None:
    while True:
        try:
            # The store client blocks; a worker thread keeps requests flowing during a load.
            await asyncio.to_thread(served.refresh)
        except Exception:
            # A dead reload task would freeze the served model silently; keep trying, loudly.
            log.exception("snapshot refresh failed")
        await asyncio.sleep(interval_s)


async def _flush_forever(outbox: Outbox, interval_s: float = 0.02) -> None:
    while True:
        try:
            await asyncio.to_thread(outbox.flush)
        except Exception:
            log.exception("publishing served predictions failed")
        await asyncio.sleep(interval_s)


def create_app(
    specs: Sequence[ModelSpec],
    store: SnapshotStore,
    key: bytes,
    clock: Clock,
    *,
    registry: CollectorRegistry | None = None,
    reload_interval_s: float = 0.25,
    max_batch: int = 1000,
    catalog: SensorCatalog | None = None,
    outbox: Outbox | None = None,
    multiprocess: bool = False,
    api_keys: ApiKeys | None = None,
) -> FastAPI:
    """Build the API over a snapshot store.

    Parameters
    ----------
    specs
        The models to serve; the first is the default.
    store
        Where snapshots are read from.
    key
        HMAC key that snapshots must be signed with.
    registry
        Prometheus registry for this app's metrics (a fresh one if None).
    catalog
        Sensor catalog: request values are converted to canonical units and range-checked
        exactly as the learner does (no checks if None).
    outbox
        Publishes operator commands (promote, rollback), served predictions and feedback
        labels; without it the admin endpoints and /feedback answer 503, and predictions
        carry no ``prediction_id``.
    api_keys
        Who may predict, send feedback and use the admin endpoints (open if None).
    multiprocess
        Several worker processes serve this app (``API__WORKERS``): /metrics then adds up the
        request metrics of every worker from ``PROMETHEUS_MULTIPROC_DIR``, which must be set
        before prometheus_client is imported, and reports this worker's served models.
    """
    registry = registry if registry is not None else CollectorRegistry()
    api_metrics = ApiMetrics(registry)
    served = ServedModels(specs, store, key, clock, api_metrics)
    served_collector = ServedModelsCollector(served.snapshots)
    registry.register(served_collector)
    if multiprocess:
        # Counters and histograms live in files shared by the workers; the served models are
        # read from this worker (all workers follow the same store).
        shared = CollectorRegistry()
        multiprocess_collector.MultiProcessCollector(shared)
        shared.register(served_collector)
        exposition = shared
    else:
        exposition = registry

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(served.refresh)
        tasks = [asyncio.create_task(_reload_forever(served, reload_interval_s))]
        if outbox is not None:
            tasks.append(asyncio.create_task(_flush_forever(outbox)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if outbox is not None:
                await asyncio.to_thread(outbox.flush)

    app = FastAPI(
        title="streamwise",
        version=__version__,
        summary="Live predictions and rolling metrics of models learning from sensor streams.",
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name if isinstance(route, APIRoute) else "",
        # Any request body may fail to parse as JSON: FastAPI answers 400 before validating.
        responses={400: {"model": ErrorBody, "description": "a body that is not valid JSON"}},
    )
    app.state.served = served
    app.state.metrics = api_metrics
    app.state.registry = exposition
    app.state.clock = clock
    app.state.max_batch = max_batch
    app.state.outbox = outbox
    app.state.api_keys = api_keys if api_keys is not None else ApiKeys([], [])
    app.state.prediction_ids = PredictionIds(key)
    app.state.catalog = catalog if catalog is not None else SensorCatalog()

    @app.exception_handler(StreamwiseError)
    async def streamwise_error(request: Request, err: StreamwiseError) -> JSONResponse:
        return JSONResponse(
            {"error": type(err).__name__, "detail": str(err)}, status_code=_status_of(err)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        # Starlette's own errors (a body that is not JSON, an unknown path) in our error shape.
        return JSONResponse(
            {"error": HTTPStatus(err.status_code).phrase.replace(" ", ""), "detail": err.detail},
            status_code=err.status_code,
            headers=err.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the input back, and a NaN in it cannot be encoded as JSON.
        problems = [
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in err.errors()
        ]
        return JSONResponse(
            {"error": "RequestValidationError", "detail": problems}, status_code=422
        )

    routers = (predict.router, feedback.router, model.router, admin.router, health.router)
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = enforced_only(default_openapi(), app.state.api_keys)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    for router in (*routers, metrics.router):
        app.include_router(router)
    app.include_router(dashboard.router)
    app.mount("/static", dashboard.Assets(), name="static")
    return app
