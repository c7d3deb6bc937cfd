"""Model registry and operator commands: versions, promote, rollback.

Commands are not applied here: they go on the control topic, and the learner applies each at
its place in the stream and snapshots the result, so readers switch models in one atomic step
and a restarted learner replays the command exactly once. The answer is ``202`` with a
``request_id``; the outcome appears in ``GET /model``'s ``lifecycle``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import AppClock, Served
from api.schemas import CommandAccepted, ErrorBody, PromoteRequest, RollbackRequest, Versions
from api.security import AdminKey
from streamwise.errors import BusError, UnknownModel
from streamwise.events import Command
from streamwise.registry import new_command

router = APIRouter(tags=["registry"])

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "admin keys are set and none was given"},
    404: {"model": ErrorBody, "description": "unknown model, candidate or version"},
    503: {"model": ErrorBody, "description": "store or bus unavailable"},
}


@router.get(
    "/models/{model_id}/versions",
    operation_id="model_versions",
    response_model=Versions,
    responses=ERRORS,
)
def model_versions(model_id: str, served: Served) -> Versions:
    """Retained snapshot versions, oldest first (kept rollback targets included)."""
    served.spec(model_id)
    return Versions(
        model_id=model_id,
        latest=served.store.latest_version(model_id),
        versions=served.store.versions(model_id),
    )


def _send(request: Request, command: Command) -> CommandAccepted:
    outbox = request.app.state.outbox
    if outbox is None:
        raise BusError("this API has no bus to send commands on (STREAMWISE_BUS)")
    outbox.command(command)
    return CommandAccepted(
        request_id=command.request_id, action=command.action, model_id=command.model_id
    )


@router.post(
    "/admin/models/{model_id}/promote",
    operation_id="promote_model",
    status_code=202,
    response_model=CommandAccepted,
    responses=ERRORS,
    dependencies=[AdminKey],
)
def promote(
    model_id: str, body: PromoteRequest, request: Request, served: Served, clock: AppClock
) -> CommandAccepted:
    """Make a candidate the champion (served from the learner's next snapshot)."""
    spec = served.spec(model_id)
    if body.candidate not in {c.name for c in spec.candidates}:
        raise UnknownModel(
            f"model {model_id!r} has no candidate {body.candidate!r}; "
            f"its candidates: {[c.name for c in spec.candidates]}"
        )
    return _send(
        request, new_command(clock, action="promote", model_id=model_id, candidate=body.candidate)
    )


@router.post(
    "/admin/models/{model_id}/rollback",
    operation_id="rollback_model",
    status_code=202,
    response_model=CommandAccepted,
    responses=ERRORS,
    dependencies=[AdminKey],
)
def rollback(
    model_id: str, body: RollbackRequest, request: Request, served: Served, clock: AppClock
) -> CommandAccepted:
    """Return every candidate and the champion to a retained version; the stream goes on."""
    served.spec(model_id)
    if body.to_version is not None and body.to_version not in served.store.versions(model_id):
        raise UnknownModel(
            f"version {body.to_version} of {model_id!r} is not retained; "
            f"retained: {served.store.versions(model_id)}"
        )
    return _send(
        request,
        new_command(clock, action="rollback", model_id=model_id, to_version=body.to_version),
    )
