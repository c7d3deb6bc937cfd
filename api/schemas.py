"""Request and response bodies of the API (typed, so /docs is complete)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from streamwise.events import Name, Value


def _iso_only(value: object) -> object:
    # Pydantic would take a number as Unix time; the schema (and users) say ISO 8601 text.
    if value is not None and not isinstance(value, str | dt.datetime):
        raise ValueError("expected an ISO 8601 time with its zone, e.g. 2026-11-25T10:00:00Z")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]


class PredictInput(BaseModel):
    """A reading to predict for; event time defaults to now (it feeds time features)."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "device_id": "dev-0001",
                    "values": {
                        "temp_c": 24.0,
                        "humidity_pct": 41.0,
                        "vibration_mm_s": 2.1,
                        "power_w": 190.0,
                    },
                }
            ]
        },
    )

    device_id: Name = "unknown"
    ts: IsoTime | None = None
    values: dict[Name, Value] = Field(min_length=1, max_length=256)
    units: dict[Name, Name] = Field(
        default_factory=dict, description="per value; converted to the catalog's units"
    )


class PredictBatch(BaseModel):
    """Several readings, predicted by the same model version."""

    model_config = ConfigDict(extra="forbid")

    items: list[PredictInput] = Field(min_length=1)


class Prediction(BaseModel):
    """One prediction and the model version that made it."""

    model_id: str
    model_version: int
    prediction: Value | None = Field(
        description="label (classification), value (regression), flag (anomaly detection)"
    )
    score: float | None = Field(
        default=None, description="anomaly score; flagged when at least the spec's threshold"
    )
    probabilities: dict[str, float] | None = Field(
        default=None, description="class probabilities, for classifiers"
    )
    prediction_id: str | None = Field(
        default=None,
        description="for models with delayed labels: send the true value to POST /feedback",
    )


class Forecast(BaseModel):
    """The champion forecaster's next ``horizon`` values."""

    model_id: str
    model_version: int
    champion: str
    horizon: int
    forecast: list[float] = Field(
        description="the values after the last one learned; the model learns a value once "
        "`horizon` newer ones have arrived (River's forecasting protocol)"
    )


class FeedbackInput(BaseModel):
    """The true value for a prediction served earlier."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    prediction_id: str = Field(min_length=1, max_length=256)
    value: Value = Field(description="the ground truth: a class label or a number")
    ts: IsoTime | None = Field(default=None, description="when it was known; default now")


class FeedbackAccepted(BaseModel):
    """Feedback on its way to the learner, which scores the prediction and learns from it."""

    prediction_id: str
    model_id: str
    label_event_id: str


class BatchPredictions(BaseModel):
    """Predictions for a batch, in input order."""

    model_id: str
    model_version: int
    predictions: list[Prediction]


class CandidateInfo(BaseModel):
    """One candidate of a model: its own progressive-validation metrics and drift record."""

    champion: bool = Field(description="the candidate the API serves")
    events_learned: int = Field(description="since it started (at start, or its last reset)")
    started_at: int = Field(description="the model's events_learned when this candidate started")
    drifts: int
    ahead: int = Field(description="consecutive labelled events ahead of the champion by margin")
    metrics: dict[str, dict[str, float | None]]


class Selection(BaseModel):
    """The champion/challenger rule of the spec."""

    metric: str
    margin: float
    min_events: int
    auto: bool


class ModelInfo(BaseModel):
    """A served model: what it learns, how far it got, and how well it does."""

    model_id: str
    task: str
    target: str
    version: int
    spec_digest: str
    events_seen: int
    events_learned: int
    events_rejected: int
    events_held_out: int = Field(description="labelled events scored on, never learned")
    metrics: dict[str, dict[str, float | None]] = Field(
        description="cumulative and rolling progressive-validation metrics"
    )
    success: dict[str, float]
    snapshot_created_at: float
    last_event_ts: float | None
    next_offsets: dict[str, int]
    champion: str = Field(description="the candidate that answers /predict")
    candidates: dict[str, CandidateInfo]
    selection: Selection
    lifecycle: list[dict[str, Any]] = Field(
        description="recent promotions, drifts, rollbacks and refused commands, oldest first"
    )
    lineage: dict[str, Any] = Field(description="parent version and why this version was saved")


class Versions(BaseModel):
    """Snapshot versions the store retains for a model."""

    model_id: str
    latest: int | None
    versions: list[int] = Field(description="oldest first; kept rollback targets included")


class PromoteRequest(BaseModel):
    """Make a candidate the champion."""

    model_config = ConfigDict(extra="forbid")

    candidate: str = Field(min_length=1, max_length=32)


class RollbackRequest(BaseModel):
    """Return the model to a former version (default: the one before the last promotion)."""

    model_config = ConfigDict(extra="forbid")

    to_version: int | None = Field(default=None, ge=1)


class CommandAccepted(BaseModel):
    """A command queued for the learner; its outcome appears in the model's ``lifecycle``."""

    request_id: str
    action: str
    model_id: str


class Health(BaseModel):
    """Liveness or readiness, with the reason when not ready."""

    status: str
    models: dict[str, int | None] = Field(default_factory=dict, description="served versions")
    store: str | None = None
    detail: str | None = None


class Problem(BaseModel):
    """One invalid field of a request."""

    loc: list[str]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer: a message, or for an invalid request the list of its problems."""

    error: str
    detail: str | list[Problem]


class SensorProfile(BaseModel):
    """Running statistics of one sensor over accepted readings."""

    count: int
    missing_ratio: float | None = Field(description="share of readings without this sensor")
    non_numeric: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    quantiles: dict[str, float] = Field(description="p05, p50, p95 (P-square estimates)")


class StreamProfile(BaseModel):
    """The live profile of the stream as of the served snapshot."""

    model_id: str = Field(description="the snapshot the profile comes from")
    model_version: int
    readings: int = Field(description="accepted readings profiled")
    counts: dict[str, int] = Field(description="consumed, accepted, duplicate")
    rejected: dict[str, int] = Field(description="dead-lettered records by reason")
    sensors: dict[str, SensorProfile]


class SilentDevices(BaseModel):
    """Devices of a model's stream that went quiet, as of the served snapshot."""

    model_id: str
    model_version: int
    silence_seconds: float | None = Field(description="from the spec; null: not monitored")
    devices: dict[str, float] = Field(description="device id -> last event time (Unix seconds)")
