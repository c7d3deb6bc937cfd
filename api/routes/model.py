"""GET /model and /models: what each served model learns and how well it does."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ModelQuery, Served
from api.reloader import ServedModel
from api.schemas import CandidateInfo, ErrorBody, ModelInfo, Selection, SilentDevices, StreamProfile

router = APIRouter(tags=["models"])

ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "unknown model"},
    503: {"model": ErrorBody, "description": "no snapshot of the model loaded yet"},
}


def _info(served: ServedModel) -> ModelInfo:
    snap, spec = served.snap, served.spec
    return ModelInfo(
        model_id=spec.model_id,
        task=spec.task,
        target=spec.target,
        version=snap.version,
        spec_digest=snap.spec_digest,
        events_seen=snap.events_seen,
        events_learned=snap.events_learned,
        events_rejected=snap.events_rejected,
        events_held_out=snap.events_held_out,
        metrics=snap.metric_values,
        success=spec.success,
        snapshot_created_at=snap.created_at,
        last_event_ts=snap.last_event_ts,
        next_offsets={f"{t}/{p}": o for (t, p), o in sorted(snap.next_offsets.items())},
        champion=snap.champion,
        candidates={
            name: CandidateInfo(
                champion=name == snap.champion,
                events_learned=c.events_learned,
                started_at=c.started_at,
                drifts=c.drifts,
                ahead=c.ahead,
                metrics=c.metric_values,
            )
            for name, c in snap.candidates.items()
        },
        selection=Selection(
            metric=spec.selection_metric,
            margin=spec.selection.margin,
            min_events=spec.selection.min_events,
            auto=spec.selection.auto,
        ),
        lifecycle=snap.lifecycle,
        lineage=snap.lineage,
    )


@router.get("/model", operation_id="get_model", response_model=ModelInfo, responses=ERRORS)
def get_model(
    served: Served,
    model: ModelQuery = None,
) -> ModelInfo:
    """Version, events learned and metrics of one served model."""
    return _info(served.get(model))


@router.get("/models", operation_id="list_models", response_model=list[ModelInfo])
def list_models(served: Served) -> list[ModelInfo]:
    """Every model that has a snapshot loaded."""
    return [_info(m) for m in served.all()]


@router.get("/profile", operation_id="get_profile", response_model=StreamProfile, responses=ERRORS)
def get_profile(
    served: Served,
    model: ModelQuery = None,
) -> StreamProfile:
    """Per-sensor counts, missing share, mean, spread and quantiles; rejections by reason."""
    target = served.get(model)
    report = target.snap.stream_report or {
        "readings": 0,
        "counts": {},
        "rejected": {},
        "sensors": {},
    }
    return StreamProfile(model_id=target.spec.model_id, model_version=target.snap.version, **report)


@router.get(
    "/devices/silent", operation_id="silent_devices", response_model=SilentDevices, responses=ERRORS
)
def silent_devices(
    served: Served,
    model: ModelQuery = None,
) -> SilentDevices:
    """Devices not heard from for longer than the spec's ``silence_seconds`` (event time)."""
    target = served.get(model)
    return SilentDevices(
        model_id=target.spec.model_id,
        model_version=target.snap.version,
        silence_seconds=target.spec.prepare.silence_seconds,
        devices=target.preparer.silent_devices(),
    )
