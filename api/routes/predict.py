"""POST /predict and /predict/batch: predictions from the served snapshot, with its version."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from api.deps import AppClock, AppOutbox, Catalog, Ids, MaxBatch, Metrics, ModelQuery, Served
from api.reloader import ServedModel
from api.schemas import (
    BatchPredictions,
    ErrorBody,
    Forecast,
    PredictBatch,
    PredictInput,
    Prediction,
)
from api.security import ClientKey
from streamwise.errors import InvalidEvent
from streamwise.events import Reading, ServedPrediction
from streamwise.feedback import Outbox, PredictionIds
from streamwise.quality import SensorCatalog

router = APIRouter(tags=["predict"], dependencies=[ClientKey])
log = logging.getLogger(__name__)

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "unknown model"},
    413: {"model": ErrorBody, "description": "batch larger than STREAMWISE_API__MAX_BATCH"},
    401: {"model": ErrorBody, "description": "API keys are set and none valid was given"},
    422: {"model": ErrorBody, "description": "a value the model cannot use"},
    503: {"model": ErrorBody, "description": "no snapshot of the model loaded yet"},
}


#: What a prediction needs to be answerable by feedback: where to publish, how to sign ids.
Asking = tuple[Outbox, PredictionIds] | None


def _asking(served: ServedModel, outbox: Outbox | None, ids: PredictionIds) -> Asking:
    return (outbox, ids) if outbox is not None and served.spec.delayed_labels else None


def _predict(
    served: ServedModel,
    item: PredictInput,
    now: dt.datetime,
    catalog: SensorCatalog,
    asking: Asking = None,
) -> Prediction:
    reading = catalog.check(  # the learner's units and ranges, so the features mean the same
        Reading(
            event_id="api",
            device_id=item.device_id,
            ts=item.ts or now,
            values=item.values,
            units=item.units,
        )
    )
    x = served.preparer.prepare(reading).x  # the learner's features, from the snapshot's state
    model = served.snap.model
    if served.spec.forecast is not None:
        raise InvalidEvent("type", f"{served.spec.model_id!r} forecasts a series: GET /forecast")
    if served.spec.threshold is not None:  # anomaly detection
        score = model.score_one(x)
        result = Prediction(
            model_id=served.spec.model_id,
            model_version=served.snap.version,
            prediction=score >= served.spec.threshold,
            score=score,
        )
    elif served.spec.task == "regression":
        result = Prediction(
            model_id=served.spec.model_id,
            model_version=served.snap.version,
            prediction=model.predict_one(x),
        )
    else:
        proba = model.predict_proba_one(x)
        result = Prediction(
            model_id=served.spec.model_id,
            model_version=served.snap.version,
            prediction=max(proba, key=proba.get) if proba else None,
            probabilities={str(k): float(v) for k, v in proba.items()},
        )
    if asking is not None:
        result.prediction_id = _remember(served, reading, x, now, *asking)
    return result


def _remember(
    served: ServedModel,
    reading: Reading,
    x: dict[str, Any],
    now: dt.datetime,
    outbox: Outbox,
    ids: PredictionIds,
) -> str | None:
    """Publish the prediction's features for the learner; the id feedback must quote."""
    prediction_id = ids.issue(served.spec.model_id, now.timestamp())
    try:
        record = ServedPrediction(
            prediction_id=prediction_id,
            model_id=served.spec.model_id,
            model_version=served.snap.version,
            device_id=reading.device_id,
            ts=reading.ts,
            x=x,
        )
    except ValidationError:  # a feature the wire format cannot carry (NaN): no feedback
        log.warning("prediction not kept for feedback", extra={"model_id": served.spec.model_id})
        return None
    outbox.prediction(record)
    return prediction_id


@router.post("/predict", operation_id="predict", response_model=Prediction, responses=ERRORS)
async def predict(
    item: PredictInput,
    served: Served,
    metrics: Metrics,
    clock: AppClock,
    catalog: Catalog,
    outbox: AppOutbox,
    ids: Ids,
    model: ModelQuery = None,
) -> Prediction:
    """Predict for one reading with the latest snapshot of a model."""
    started = time.perf_counter()
    target = served.get(model)
    now = dt.datetime.fromtimestamp(clock.now(), dt.UTC)
    result = _predict(target, item, now, catalog, _asking(target, outbox, ids))
    metrics.predictions.labels(target.spec.model_id).inc()
    metrics.predict_seconds.labels(target.spec.model_id).observe(time.perf_counter() - started)
    return result


@router.get("/forecast", operation_id="forecast", response_model=Forecast, responses=ERRORS)
async def forecast(served: Served, model: ModelQuery = None) -> Forecast:
    """The next ``horizon`` values of a forecasting model's series."""
    target = served.get(model)
    spec = target.spec
    if spec.forecast is None:
        raise InvalidEvent("type", f"{spec.model_id!r} is not a forecaster: POST /predict")
    values = target.snap.model.forecast(spec.forecast.horizon)
    return Forecast(
        model_id=spec.model_id,
        model_version=target.snap.version,
        champion=target.snap.champion,
        horizon=spec.forecast.horizon,
        forecast=[float(v) for v in values],
    )


@router.post(
    "/predict/batch",
    operation_id="predict_batch",
    response_model=BatchPredictions,
    responses=ERRORS,
)
def predict_batch(
    batch: PredictBatch,
    served: Served,
    metrics: Metrics,
    clock: AppClock,
    catalog: Catalog,
    limit: MaxBatch,
    outbox: AppOutbox,
    ids: Ids,
    model: ModelQuery = None,
) -> BatchPredictions:
    """Predict for several readings; all use the same model version.

    A plain ``def``: a large batch runs in the threadpool instead of blocking the event loop.
    """
    started = time.perf_counter()
    target = served.get(model)  # one reference for the whole batch, even if a swap happens
    if len(batch.items) > limit:
        raise InvalidEvent("size", f"batch of {len(batch.items)} exceeds the limit of {limit}")
    now = dt.datetime.fromtimestamp(clock.now(), dt.UTC)
    asking = _asking(target, outbox, ids)
    predictions = [_predict(target, item, now, catalog, asking) for item in batch.items]
    metrics.predictions.labels(target.spec.model_id).inc(len(predictions))
    metrics.predict_seconds.labels(target.spec.model_id).observe(time.perf_counter() - started)
    return BatchPredictions(
        model_id=target.spec.model_id, model_version=target.snap.version, predictions=predictions
    )
