"""Turning consumed records into accepted events, or dead letters with a reason."""

from __future__ import annotations

import datetime as dt

from streamwise.errors import InvalidEvent
from streamwise.events import DeadLetter, Reading, decode_reading
from streamwise.ports import Record


def accept(record: Record) -> Reading:
    """Validate one consumed record as a reading.

    Raises
    ------
    InvalidEvent
        With a stable reason code; the caller dead-letters it.
    """
    return decode_reading(record.value)


def dead_letter(record: Record, error: InvalidEvent, now: float) -> DeadLetter:
    """The dead-letter message for a rejected record, with its source position.

    Examples
    --------
    >>> from streamwise.ports import Record
    >>> rec = Record("sensors.readings.v1", 1, 42, "dev-1", b"{", 0)
    >>> try:
    ...     accept(rec)
    ... except InvalidEvent as err:
    ...     dl = dead_letter(rec, err, now=0.0)
    >>> dl.reason, dl.partition, dl.offset, dl.original()
    ('schema', 1, 42, b'{')
    """
    return DeadLetter.of(
        record.value,
        error.reason,
        error.detail,
        record.topic,
        record.partition,
        record.offset,
        record.key,
        dt.datetime.fromtimestamp(now, dt.UTC),
    )
