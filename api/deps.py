"""Dependencies as ``Annotated`` aliases: routes declare what they need, the app provides it.

Each is ``async def``: they only read ``app.state``, and FastAPI runs a plain ``def`` dependency
in the thread pool, a round trip per dependency per request (measured: a third of /predict).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from prometheus_client import CollectorRegistry

from api.reloader import ServedModels
from streamwise.clock import Clock
from streamwise.feedback import Outbox, PredictionIds
from streamwise.quality import SensorCatalog
from streamwise.telemetry import ApiMetrics


async def _served(request: Request) -> ServedModels:
    return request.app.state.served  # type: ignore[no-any-return]


async def _metrics(request: Request) -> ApiMetrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


async def _registry(request: Request) -> CollectorRegistry:
    return request.app.state.registry  # type: ignore[no-any-return]


async def _clock(request: Request) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


async def _catalog(request: Request) -> SensorCatalog:
    return request.app.state.catalog  # type: ignore[no-any-return]


async def _max_batch(request: Request) -> int:
    return request.app.state.max_batch  # type: ignore[no-any-return]


async def _outbox(request: Request) -> Outbox | None:
    return request.app.state.outbox  # type: ignore[no-any-return]


async def _prediction_ids(request: Request) -> PredictionIds:
    return request.app.state.prediction_ids  # type: ignore[no-any-return]


Served = Annotated[ServedModels, Depends(_served)]
Metrics = Annotated[ApiMetrics, Depends(_metrics)]
Registry = Annotated[CollectorRegistry, Depends(_registry)]
AppClock = Annotated[Clock, Depends(_clock)]
MaxBatch = Annotated[int, Depends(_max_batch)]
Catalog = Annotated[SensorCatalog, Depends(_catalog)]
AppOutbox = Annotated[Outbox | None, Depends(_outbox)]
Ids = Annotated[PredictionIds, Depends(_prediction_ids)]
ModelQuery = Annotated[
    str | None, Query(description="model id; defaults to the first configured model")
]
