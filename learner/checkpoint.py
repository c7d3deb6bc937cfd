"""When to snapshot, and the fixed order in which a checkpoint happens."""

from __future__ import annotations

from streamwise.clock import Clock


class CheckpointPolicy:
    """Due every ``every_events`` records or ``every_seconds`` of processing time, if anything new.

    A learner that has caught up with the stream (``idle``) also snapshots its unsaved tail once
    ``idle_seconds`` have passed, so the served model never waits for the next burst of events,
    while a trickle of events cannot cause a snapshot per poll.

    Examples
    --------
    >>> from streamwise.clock import FakeClock
    >>> clock = FakeClock()
    >>> policy = CheckpointPolicy(every_events=100, every_seconds=5.0, clock=clock)
    >>> policy.due(events_since=10)
    False
    >>> clock.advance(1.0); policy.due(events_since=10, idle=True)
    True
    >>> clock.advance(4.0); policy.due(events_since=10)
    True
    >>> policy.done(); policy.due(events_since=0, idle=True)
    False
    """

    def __init__(
        self, every_events: int, every_seconds: float, clock: Clock, idle_seconds: float = 1.0
    ) -> None:
        self.every_events = every_events
        self.every_seconds = every_seconds
        self.idle_seconds = min(idle_seconds, every_seconds)
        self._clock = clock
        self._last = clock.monotonic()

    def due(self, events_since: int, idle: bool = False) -> bool:
        if events_since <= 0:
            return False
        elapsed = self._clock.monotonic() - self._last
        return (
            events_since >= self.every_events
            or elapsed >= self.every_seconds
            or (idle and elapsed >= self.idle_seconds)
        )

    def done(self) -> None:
        self._last = self._clock.monotonic()
