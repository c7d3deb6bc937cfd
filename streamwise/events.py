"""Events on the bus: sensor readings and (possibly late) labels, SenML-like.

A reading carries one device's measurements at one instant. Ground truth, when the device or a
downstream system knows it at emission time, rides along in ``labels``; otherwise it arrives
later as a separate :class:`Label` that refers to the reading's ``event_id``.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Annotated, Literal, Self, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from streamwise.errors import InvalidEvent

#: Largest message accepted on any topic; larger ones go to the dead-letter topic as ``size``.
MAX_EVENT_BYTES = 64 * 1024

Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]
#: A measured or label value: a finite number, a boolean (SenML ``vb``) or a string (``vs``).
Value = float | bool | str

_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    def encode(self) -> bytes:
        """JSON bytes, as published on the bus."""
        return self.model_dump_json().encode()


EventT = TypeVar("EventT", bound=_Event)


class Reading(_Event):
    """One device's measurements at one instant.

    Parameters
    ----------
    event_id
        Unique id of this reading; producers retry with the same id, so it is the dedup key.
    device_id
        The emitting device; also the message key, so one device stays in one partition.
    ts
        Event time (timezone-aware), when the device measured.
    values
        Measurement name to value, e.g. ``{"temp_c": 21.5}``.
    units
        Measurement name to unit, e.g. ``{"temp_c": "Cel"}`` (SenML unit names).
    labels
        Ground truth known at emission, e.g. ``{"fault": False}``.

    Examples
    --------
    >>> r = Reading.example()
    >>> decode_reading(r.encode()) == r
    True
    """

    event_id: Name
    device_id: Name
    ts: AwareDatetime
    values: dict[Name, Value] = Field(min_length=1, max_length=256)
    units: dict[Name, Name] = Field(default_factory=dict, max_length=256)
    labels: dict[Name, Value] = Field(default_factory=dict, max_length=64)

    @classmethod
    def example(cls, **overrides: object) -> Self:
        """A valid reading stamped 2026-01-01T00:00Z, for docs and tests."""
        fields: dict[str, object] = {
            "event_id": "dev-0001-000001",
            "device_id": "dev-0001",
            "ts": _EPOCH,
            "values": {"temp_c": 21.5, "humidity_pct": 40.0},
            "units": {"temp_c": "Cel", "humidity_pct": "%RH"},
            "labels": {"fault": False},
        }
        fields.update(overrides)
        return cls.model_validate(fields)


class Label(_Event):
    """Ground truth for an earlier reading, arriving after it.

    Examples
    --------
    >>> lab = Label.example()
    >>> lab.ref_event_id, lab.target, lab.value
    ('dev-0001-000001', 'fault', True)
    """

    event_id: Name
    ref_event_id: Name
    target: Name
    value: Value
    ts: AwareDatetime

    @classmethod
    def example(cls, **overrides: object) -> Self:
        """A valid label for :meth:`Reading.example`."""
        fields: dict[str, object] = {
            "event_id": "label-000001",
            "ref_event_id": "dev-0001-000001",
            "target": "fault",
            "value": True,
            "ts": _EPOCH + dt.timedelta(minutes=5),
        }
        fields.update(overrides)
        return cls.model_validate(fields)


class Command(_Event):
    """An operator's request to the learner, on the control topic (keyed by model id).

    Commands travel through the bus, in order with the stream, so the learner applies each
    one exactly once at a definite offset, and replays it the same way after a restart.

    Examples
    --------
    >>> Command(action="promote", model_id="m", requested_at=_EPOCH)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Command
    ...
    """

    action: Literal["promote", "rollback"]
    model_id: Name
    candidate: Name | None = Field(default=None, description="promote: the new champion")
    to_version: int | None = Field(
        default=None, ge=1, description="rollback: target version; none: before last promotion"
    )
    request_id: Name = Field(default_factory=lambda: uuid.uuid4().hex)
    requested_at: AwareDatetime

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.action == "promote" and self.candidate is None:
            raise ValueError("promote needs the candidate to make champion")
        return self


class ServedPrediction(_Event):
    """A prediction the API served with a ``prediction_id``: its features wait for feedback.

    Published on the predictions topic (keyed by model id) for models with delayed labels; the
    learner keeps the features until a label for ``prediction_id`` arrives or they expire.
    """

    prediction_id: Name
    model_id: Name
    model_version: int
    device_id: Name
    ts: AwareDatetime
    x: dict[Name, Value]


def _decode(kind: type[EventT], raw: bytes) -> EventT:
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(
            "size", f"{len(raw)} bytes exceeds the {MAX_EVENT_BYTES}-byte limit", raw
        )
    try:
        return kind.model_validate_json(raw)
    except ValidationError as err:
        first = err.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        detail = f"{kind.__name__}: {where}: {first['msg']} ({err.error_count()} error(s))"
        raise InvalidEvent("schema", detail, raw) from None


def decode_reading(raw: bytes) -> Reading:
    """Parse and validate one reading.

    Raises
    ------
    InvalidEvent
        With reason ``size`` or ``schema``; the exception keeps the raw bytes.

    Examples
    --------
    >>> decode_reading(b'{"event_id": "e1"}')
    Traceback (most recent call last):
    ...
    streamwise.errors.InvalidEvent: schema: Reading: device_id: Field required (3 error(s))
    """
    return _decode(Reading, raw)


def decode_command(raw: bytes) -> Command:
    """Parse and validate one control command; raises :class:`InvalidEvent`."""
    return _decode(Command, raw)


def decode_served_prediction(raw: bytes) -> ServedPrediction:
    """Parse and validate a served prediction; raises :class:`InvalidEvent`."""
    return _decode(ServedPrediction, raw)


def decode_label(raw: bytes) -> Label:
    """Parse and validate one label; raises :class:`InvalidEvent` like :func:`decode_reading`."""
    return _decode(Label, raw)


class DeadLetter(_Event):
    """A rejected message, as written to the dead-letter topic: nothing is ever dropped.

    Examples
    --------
    >>> dl = DeadLetter.of(b"not json", "schema", "invalid JSON", "sensors.readings.v1", 0, 7,
    ...                    key="dev-1", rejected_at=_EPOCH)
    >>> dl.original()
    b'not json'
    """

    reason: Name
    detail: str
    topic: Name
    partition: int
    offset: int
    key: str | None
    raw_b64: str
    rejected_at: AwareDatetime

    @classmethod
    def of(
        cls,
        raw: bytes,
        reason: str,
        detail: str,
        topic: str,
        partition: int,
        offset: int,
        key: str | None,
        rejected_at: dt.datetime,
    ) -> Self:
        """Wrap rejected bytes with why and where they were rejected."""
        return cls(
            reason=reason,
            detail=detail,
            topic=topic,
            partition=partition,
            offset=offset,
            key=key,
            raw_b64=base64.b64encode(raw).decode(),
            rejected_at=rejected_at,
        )

    def original(self) -> bytes:
        """The rejected message's bytes, exactly as they were consumed."""
        return base64.b64decode(self.raw_b64)
