"""Events: decoding is total (an event or InvalidEvent, nothing else) and round-trips."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamwise.errors import InvalidEvent
from streamwise.events import (
    MAX_EVENT_BYTES,
    DeadLetter,
    Label,
    Reading,
    decode_label,
    decode_reading,
)

names = st.text(min_size=1, max_size=20)
values = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.booleans(), names)
readings = st.builds(
    Reading,
    event_id=names,
    device_id=names,
    ts=st.datetimes(timezones=st.just(dt.UTC)),
    values=st.dictionaries(names, values, min_size=1, max_size=5),
    labels=st.dictionaries(names, values, max_size=2),
)


@given(st.binary(max_size=2048))
def test_any_bytes_decode_to_a_reading_or_invalid_event(raw: bytes) -> None:
    try:
        decode_reading(raw)
    except InvalidEvent as err:
        assert err.reason in {"schema", "size"}
        assert err.raw == raw


@given(readings)
def test_readings_round_trip_through_json(reading: Reading) -> None:
    assert decode_reading(reading.encode()) == reading


@given(readings, st.sampled_from(["event_id", "device_id", "ts", "values"]))
def test_a_missing_required_field_is_a_schema_error(reading: Reading, field: str) -> None:
    body = json.loads(reading.encode())
    del body[field]
    with pytest.raises(InvalidEvent) as caught:
        decode_reading(json.dumps(body).encode())
    assert caught.value.reason == "schema" and field in caught.value.detail


@pytest.mark.parametrize(
    "body",
    [
        {"values": {"t": "NaN"}},
        {"values": {}},
        {"ts": "2026-01-01T00:00:00"},  # naive time: ambiguous, refused
        {"values": {"t": [1, 2]}},
        {"unexpected": 1},
    ],
)
def test_invalid_fields_are_rejected_with_reasons(body: dict[str, object]) -> None:
    raw = json.loads(Reading.example().encode())
    raw.update(body)
    with pytest.raises(InvalidEvent) as caught:
        decode_reading(json.dumps(raw).replace('"NaN"', "NaN").encode())
    assert caught.value.reason == "schema"


def test_oversized_messages_are_rejected_before_parsing() -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_reading(b" " * (MAX_EVENT_BYTES + 1))
    assert caught.value.reason == "size"


def test_labels_and_dead_letters_round_trip() -> None:
    label = Label.example()
    assert decode_label(label.encode()) == label
    letter = DeadLetter.of(b"\xff\x00", "schema", "bad", "t", 1, 2, None, dt.datetime.now(dt.UTC))
    assert DeadLetter.model_validate_json(letter.encode()).original() == b"\xff\x00"
