"""When to snapshot, and the fixed order in which a checkpoint happens."""

from __future__ import annotations

from streamwise.clock import Clock


class CheckpointPolicy:
    """Due every ``every_events`` records or ``every_seconds`` of processing time, if anything new.

    Examples
    --------
    >>> from streamwise.clock import FakeClock
    >>> clock = FakeClock()
    >>> policy = CheckpointPolicy(every_events=100, every_seconds=5.0, clock=clock)
    >>> policy.due(events_since=10)
    False
    >>> clock.advance(5.0); policy.due(events_since=10)
    True
    >>> policy.done(); policy.due(events_since=0)
    False
    """

    def __init__(self, every_events: int, every_seconds: float, clock: Clock) -> None:
        self.every_events = every_events
        self.every_seconds = every_seconds
        self._clock = clock
        self._last = clock.monotonic()

    def due(self, events_since: int) -> bool:
        if events_since <= 0:
            return False
        return (
            events_since >= self.every_events
            or self._clock.monotonic() - self._last >= self.every_seconds
        )

    def done(self) -> None:
        self._last = self._clock.monotonic()
