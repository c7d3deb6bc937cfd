"""Reading the dead-letter topic back, and replaying its messages once their cause is fixed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from streamwise.errors import BusError
from streamwise.events import DeadLetter
from streamwise.ports import Bus


def read_all(bus: Bus, topic: str, timeout_s: float = 30.0) -> Iterator[DeadLetter]:
    """Every dead letter currently in ``topic``, from the beginning to the end offsets.

    Examples
    --------
    >>> import datetime as dt
    >>> from streamwise.adapters.memory import MemoryBroker, MemoryBus
    >>> bus = MemoryBus(MemoryBroker())
    >>> letter = DeadLetter.of(b"{", "schema", "bad JSON", "sensors.readings.v1", 0, 7, "dev-1",
    ...                        dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    >>> bus.publish("sensors.dlq.v1", "dev-1", letter.encode()); bus.flush(1.0)
    >>> [(d.reason, d.offset) for d in read_all(bus, "sensors.dlq.v1")]
    [('schema', 7)]
    """
    bus.subscribe([topic])
    remaining = {tp: end for tp, end in bus.end_offsets().items() if end > 0}
    deadline = time.monotonic() + timeout_s
    while remaining:
        if time.monotonic() > deadline:
            raise BusError(f"reading {topic} did not reach its end within {timeout_s}s")
        for record in bus.poll(max_records=1000, timeout_s=0.5):
            tp = (record.topic, record.partition)
            if record.offset + 1 >= remaining.get(tp, 0):
                remaining.pop(tp, None)
            yield DeadLetter.model_validate_json(record.value)


def replay(
    bus: Bus,
    letters: Iterator[DeadLetter],
    accept: Callable[[DeadLetter], bool] = lambda letter: True,
) -> int:
    """Publish the original bytes of the chosen dead letters to their source topics.

    A replayed message is validated again like any other: if its cause is fixed it is learned,
    if not it is dead-lettered again; a message accepted earlier is recognised by its event id
    and counted as a duplicate, so replaying twice never learns twice (within the dedup window).
    """
    sent = 0
    for letter in letters:
        if accept(letter):
            bus.publish(letter.topic, letter.key or "", letter.original())
            sent += 1
    bus.flush(timeout_s=60.0)
    return sent
