"""POST /feedback: the true value of a prediction served earlier, for models with delayed labels.

The label goes on the labels topic; the learner joins it to the features the API published with
the prediction, scores the prediction and learns. The API checks only what it can check alone:
the id's signature (404), its age against the spec's ``ttl_seconds`` (410), the value's type.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter

from api.deps import AppClock, AppOutbox, Ids, Served
from api.schemas import ErrorBody, FeedbackAccepted, FeedbackInput
from api.security import ClientKey
from streamwise.errors import BusError, InvalidEvent, PredictionExpired, UnknownPrediction
from streamwise.events import Label

router = APIRouter(tags=["predict"], dependencies=[ClientKey])

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "API keys are set and none valid was given"},
    404: {"model": ErrorBody, "description": "a prediction id this deployment never issued"},
    410: {"model": ErrorBody, "description": "the model no longer waits for this prediction"},
    422: {"model": ErrorBody, "description": "a value the model cannot learn"},
    503: {"model": ErrorBody, "description": "no bus to send the label on"},
}


@router.post(
    "/feedback",
    operation_id="feedback",
    status_code=202,
    response_model=FeedbackAccepted,
    responses=ERRORS,
)
def feedback(
    body: FeedbackInput, served: Served, clock: AppClock, outbox: AppOutbox, ids: Ids
) -> FeedbackAccepted:
    """Send the true value of a prediction; the learner scores it, then learns from it."""
    issued = ids.verify(body.prediction_id)
    if issued is None or issued.model_id not in served.specs:
        raise UnknownPrediction(f"prediction id {body.prediction_id!r} was not issued here")
    spec = served.specs[issued.model_id]
    now = clock.now()
    ttl = spec.delayed_labels.ttl_seconds if spec.delayed_labels is not None else 0.0
    if now - issued.issued_at > ttl:
        raise PredictionExpired(
            f"prediction {body.prediction_id!r} is {now - issued.issued_at:.0f} s old; "
            f"{spec.model_id!r} waits {ttl:g} s for feedback (delayed_labels.ttl_seconds)"
        )
    if spec.task == "regression" and type(body.value) in (str, bool):
        raise InvalidEvent("type", f"{spec.model_id!r} learns numbers, got {body.value!r}")
    if outbox is None:
        raise BusError("this API has no bus to send feedback on (STREAMWISE_BUS)")
    label = Label(
        event_id=f"feedback-{uuid.uuid4().hex}",
        ref_event_id=body.prediction_id,
        target=spec.target,
        value=body.value,
        ts=body.ts or dt.datetime.fromtimestamp(now, dt.UTC),
    )
    outbox.label(label)
    return FeedbackAccepted(
        prediction_id=body.prediction_id, model_id=spec.model_id, label_event_id=label.event_id
    )
