"""Publishing readings: JSON on the readings topic, keyed by device id, paced to a rate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from ingest.simulator import Fleet
from streamwise.clock import Clock
from streamwise.events import Reading
from streamwise.ports import Bus


def publish(bus: Bus, topic: str, readings: Iterable[Reading]) -> int:
    """Queue readings keyed by device id (one device stays in one partition, in order)."""
    n = 0
    for reading in readings:
        bus.publish(topic, reading.device_id, reading.encode())
        n += 1
    return n


def run_fleet(
    bus: Bus,
    topic: str,
    fleet: Fleet,
    rate: float,
    duration_s: float,
    clock: Clock,
    on_progress: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Publish the fleet's readings at about ``rate`` readings/s for ``duration_s`` (0: forever).

    Every device reports once per tick; ticks are spaced so the whole fleet adds up to
    ``rate``. Event time is the clock's time at the tick. Flushes (acks) once a second and at
    the end, so a clean return means every reading was acknowledged.

    Examples
    --------
    >>> from streamwise.adapters.memory import MemoryBroker, MemoryBus
    >>> from streamwise.clock import FakeClock
    >>> run_fleet(MemoryBus(MemoryBroker()), "t", Fleet(10), rate=100, duration_s=2,
    ...           clock=FakeClock(1.7e9))
    200
    """
    if rate <= 0:
        raise ValueError(f"rate must be > 0 readings/s, got {rate}")
    interval = len(fleet.devices) / rate
    ticks = round(duration_s / interval) if duration_s else None
    started = last_flush = clock.monotonic()
    sent = tick = 0
    while not should_stop() and (ticks is None or tick < ticks):
        now = clock.monotonic()
        due = started + tick * interval  # from the start, so sleep overshoot never accumulates
        if now < due:
            clock.sleep(due - now)
            continue
        ts = dt.datetime.fromtimestamp(clock.now(), dt.UTC)
        sent += publish(bus, topic, fleet.tick(ts))
        tick += 1
        if now - last_flush >= 1.0:
            bus.flush(timeout_s=30.0)
            last_flush = now
            if on_progress is not None:
                on_progress(sent)
    bus.flush(timeout_s=30.0)
    if on_progress is not None:
        on_progress(sent)
    return sent
