"""Clocks: the domain never reads the wall clock directly, so tests can drive time."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Source of processing time (seconds); event time lives in the events themselves."""

    def now(self) -> float:
        """Wall-clock time in seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds, for intervals."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a fake clock just advances)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to.

    Examples
    --------
    >>> clock = FakeClock(start=100.0)
    >>> clock.advance(2.5)
    >>> clock.now(), clock.monotonic()
    (102.5, 102.5)
    """

    def __init__(self, start: float = 0.0) -> None:
        self._t = start

    def advance(self, seconds: float) -> None:
        self._t += seconds

    def now(self) -> float:
        return self._t

    def monotonic(self) -> float:
        return self._t

    def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))
