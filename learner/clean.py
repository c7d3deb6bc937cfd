"""From consumed records to accepted readings: decode, deduplicate, check time and sensors.

Every record ends in exactly one place: accepted, a duplicate (counted, already processed
once), or rejected with a reason (dead-lettered). The stateful parts (the dedup window and each
device's newest event time) are plain data that travel in snapshots, so a restart continues
exactly where the snapshot stopped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import OrderedDict, deque
from typing import Any

from streamwise.errors import InvalidEvent
from streamwise.events import DeadLetter, Reading, decode_reading
from streamwise.ports import Record
from streamwise.quality import SensorCatalog
from streamwise.settings import QualitySettings


def _event_key(event_id: str) -> int:
    # Stable across processes (hash() is salted); 64 bits keep a 100k window collision-free
    # in practice (~3e-10 chance per window).
    return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=8).digest(), "big")


class Duplicate(Exception):
    """The record repeats an event id already accepted within the dedup window."""


class StreamGate:
    """Decides, per record, accepted / duplicate / rejected; its state goes in snapshots.

    Examples
    --------
    >>> gate = StreamGate(QualitySettings(), SensorCatalog())
    >>> rec = Record("t", 0, 0, "dev-0001", Reading.example().encode(), 0)
    >>> gate.admit(rec, now=1.8e9).event_id
    'dev-0001-000001'
    >>> gate.admit(rec, now=1.8e9)
    Traceback (most recent call last):
    ...
    learner.clean.Duplicate: dev-0001-000001
    """

    def __init__(self, settings: QualitySettings, catalog: SensorCatalog) -> None:
        self._settings = settings
        self._catalog = catalog
        self._window: deque[int] = deque()
        self._seen: set[int] = set()
        self._newest: OrderedDict[str, float] = OrderedDict()  # device -> newest event time
        self.counts: dict[str, int] = {"consumed": 0, "accepted": 0, "duplicate": 0}
        self.rejected: dict[str, int] = {}

    def admit(self, record: Record, now: float) -> Reading:
        """The accepted reading; raises :class:`Duplicate` or ``InvalidEvent``."""
        self.counts["consumed"] += 1
        try:
            reading = self._admit(record, now)
        except InvalidEvent as err:
            self.rejected[err.reason] = self.rejected.get(err.reason, 0) + 1
            raise
        except Duplicate:
            self.counts["duplicate"] += 1
            raise
        self.counts["accepted"] += 1
        return reading

    def _admit(self, record: Record, now: float) -> Reading:
        reading = decode_reading(record.value)
        key = _event_key(reading.event_id)
        if key in self._seen:
            raise Duplicate(reading.event_id)
        ts = reading.ts.timestamp()
        if ts > now + self._settings.max_future_s:
            ahead = ts - now
            raise InvalidEvent(
                "future",
                f"event time is {ahead:.0f}s ahead of now (limit {self._settings.max_future_s:g}s)",
                record.value,
            )
        newest = self._newest.get(reading.device_id)
        if newest is not None and ts < newest - self._settings.max_lateness_s:
            raise InvalidEvent(
                "late",
                f"event time is {newest - ts:.0f}s behind the device's newest reading "
                f"(limit {self._settings.max_lateness_s:g}s)",
                record.value,
            )
        try:
            reading = self._catalog.check(reading)
        except InvalidEvent as err:
            err.raw = record.value
            raise
        self._remember(key, reading.device_id, ts, newest)
        return reading

    def _remember(self, key: int, device: str, ts: float, newest: float | None) -> None:
        if self._settings.dedup_window:
            self._window.append(key)
            self._seen.add(key)
            if len(self._window) > self._settings.dedup_window:
                self._seen.discard(self._window.popleft())
        if newest is None or ts > newest:
            self._newest[device] = ts
        self._newest.move_to_end(device)  # least recently heard devices are evicted first
        if len(self._newest) > self._settings.max_devices:
            self._newest.popitem(last=False)

    def state(self) -> dict[str, Any]:
        """Plain data for a snapshot (no project classes: the API unpickles snapshots too)."""
        return {
            "window": list(self._window),
            "newest": list(self._newest.items()),
            "counts": dict(self.counts),
            "rejected": dict(self.rejected),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._window = deque(state["window"])
        self._seen = set(self._window)
        self._newest = OrderedDict(state["newest"])
        self.counts = dict(state["counts"])
        self.rejected = dict(state["rejected"])


def dead_letter(record: Record, error: InvalidEvent, now: float) -> DeadLetter:
    """The dead-letter message for a rejected record, with its source position.

    Examples
    --------
    >>> from streamwise.ports import Record
    >>> rec = Record("sensors.readings.v1", 1, 42, "dev-1", b"{", 0)
    >>> try:
    ...     decode_reading(rec.value)
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
