"""POST /predict and /predict/batch: predictions from the served snapshot, with its version."""

from __future__ import annotations

import datetime as dt
import time

from fastapi import APIRouter

from api.deps import AppClock, Catalog, MaxBatch, Metrics, ModelQuery, Served
from api.reloader import ServedModel
from api.schemas import BatchPredictions, ErrorBody, PredictBatch, PredictInput, Prediction
from streamwise.errors import InvalidEvent
from streamwise.events import Reading
from streamwise.quality import SensorCatalog

router = APIRouter(tags=["predict"])

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "unknown model"},
    413: {"model": ErrorBody, "description": "batch larger than STREAMWISE_API__MAX_BATCH"},
    422: {"model": ErrorBody, "description": "a value the model cannot use"},
    503: {"model": ErrorBody, "description": "no snapshot of the model loaded yet"},
}


def _predict(
    served: ServedModel, item: PredictInput, now: dt.datetime, catalog: SensorCatalog
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
    if served.spec.task == "regression":
        value = model.predict_one(x)
        return Prediction(
            model_id=served.spec.model_id, model_version=served.snap.version, prediction=value
        )
    proba = model.predict_proba_one(x)
    label = max(proba, key=proba.get) if proba else None
    return Prediction(
        model_id=served.spec.model_id,
        model_version=served.snap.version,
        prediction=label,
        probabilities={str(k): float(v) for k, v in proba.items()},
    )


@router.post("/predict", operation_id="predict", response_model=Prediction, responses=ERRORS)
async def predict(
    item: PredictInput,
    served: Served,
    metrics: Metrics,
    clock: AppClock,
    catalog: Catalog,
    model: ModelQuery = None,
) -> Prediction:
    """Predict for one reading with the latest snapshot of a model."""
    started = time.perf_counter()
    target = served.get(model)
    result = _predict(target, item, dt.datetime.fromtimestamp(clock.now(), dt.UTC), catalog)
    metrics.predictions.labels(target.spec.model_id).inc()
    metrics.predict_seconds.labels(target.spec.model_id).observe(time.perf_counter() - started)
    return result


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
    predictions = [_predict(target, item, now, catalog) for item in batch.items]
    metrics.predictions.labels(target.spec.model_id).inc(len(predictions))
    metrics.predict_seconds.labels(target.spec.model_id).observe(time.perf_counter() - started)
    return BatchPredictions(
        model_id=target.spec.model_id, model_version=target.snap.version, predictions=predictions
    )
