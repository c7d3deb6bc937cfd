"""One suite for the Bus port, run on every adapter (memory always, Kafka as integration)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from streamwise.adapters.memory import MemoryBroker, MemoryBus
from streamwise.ports import Bus, Record
from tests.conftest import Services

BusFactory = Callable[[], Bus]


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.integration)])
def make_bus(request: pytest.FixtureRequest) -> Iterator[BusFactory]:
    """Factory of bus clients that share one cluster (so one can write, another read)."""
    made: list[Bus] = []
    if request.param == "memory":
        broker = MemoryBroker(partitions=2)

        def factory() -> Bus:
            made.append(MemoryBus(broker))
            return made[-1]
    else:
        from streamwise.adapters.kafka import KafkaBus

        services: Services = request.getfixturevalue("services")

        def factory() -> Bus:
            made.append(KafkaBus(services.kafka))
            return made[-1]

    yield factory
    for bus in made:
        bus.close()


def _topic() -> str:
    return f"contract-{uuid.uuid4().hex[:8]}.v1"


def poll_until(bus: Bus, count: int, timeout_s: float = 20.0) -> list[Record]:
    """Bounded wait for ``count`` records (never a bare sleep)."""
    out: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < count and time.monotonic() < deadline:
        out.extend(bus.poll(max_records=count - len(out), timeout_s=0.5))
    return out


def test_published_records_come_back_in_order_per_key(make_bus: BusFactory) -> None:
    topic = _topic()
    writer, reader = make_bus(), make_bus()
    for i in range(50):
        writer.publish(topic, f"dev-{i % 5}", f"{i % 5}:{i}".encode())
    writer.flush(30.0)
    reader.subscribe([topic])
    records = poll_until(reader, 50)
    assert len(records) == 50
    by_key: dict[str, list[int]] = {}
    for r in records:
        assert r.topic == topic and r.key is not None
        by_key.setdefault(r.key, []).append(int(r.value.split(b":")[1]))
    assert all(seq == sorted(seq) for seq in by_key.values())
    partitions_of_key = {r.key: {x.partition for x in records if x.key == r.key} for r in records}
    assert all(len(p) == 1 for p in partitions_of_key.values())


def test_seek_resumes_at_next_offsets(make_bus: BusFactory) -> None:
    topic = _topic()
    writer = make_bus()
    for i in range(20):
        writer.publish(topic, "one-key", str(i).encode())
    writer.flush(30.0)
    first = make_bus()
    first.subscribe([topic])
    records = poll_until(first, 20)
    (partition,) = {r.partition for r in records}
    assert [r.offset for r in records] == list(range(20))

    resumed = make_bus()
    resumed.subscribe([topic])
    resumed.seek({(topic, partition): 15})
    rest = poll_until(resumed, 5)
    assert [r.value for r in rest] == [str(i).encode() for i in range(15, 20)]
    assert resumed.end_offsets()[topic, partition] == 20


def test_commit_is_accepted_and_poll_on_empty_topic_returns_nothing(make_bus: BusFactory) -> None:
    topic = _topic()
    bus = make_bus()
    bus.subscribe([topic])
    assert bus.poll(max_records=10, timeout_s=0.2) == []
    bus.commit({(topic, 0): 0})
    assert all(v == 0 for v in bus.end_offsets().values())


def test_offsets_for_time_finds_the_first_record_written_since(make_bus: BusFactory) -> None:
    topic = _topic()
    writer, reader = make_bus(), make_bus()
    for i in range(5):
        writer.publish(topic, "dev-1", f"early {i}".encode())
    writer.flush(30.0)
    time.sleep(0.05)  # record timestamps are milliseconds: make "since" unambiguous
    since_ms = int(time.time() * 1000)
    time.sleep(0.05)
    for i in range(3):
        writer.publish(topic, "dev-1", f"late {i}".encode())
    writer.flush(30.0)
    reader.subscribe([topic])
    offsets = reader.offsets_for_time(since_ms)
    ends = reader.end_offsets()
    (tp,) = [tp for tp, end in ends.items() if end]  # the one partition dev-1 went to
    assert offsets[tp] == 5
    assert all(offsets[other] == 0 for other in ends if other != tp)  # empty partitions
    assert reader.offsets_for_time(int(time.time() * 1000) + 60_000)[tp] == 8  # the end
