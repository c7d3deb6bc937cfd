"""Delayed labels: readings wait for their label, which scores the stored prediction."""

from __future__ import annotations

import datetime as dt

import pytest
from river import evaluate, stream

from ingest import replay
from learner.loop import Learner
from learner.models import METRICS, build_model
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.events import DeadLetter, Label, Reading
from streamwise.spec import ModelSpec
from tests.learner.test_loop import TOPICS, drain, make_learner

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

SPEC = ModelSpec.example(
    model_id="phishing",
    target="y",
    metrics=["Accuracy", "F1", "LogLoss", "ROCAUC"],
    delayed_labels={"ttl_seconds": 1e6},
)


def question(i: int, x: dict, ts: dt.datetime | None = None) -> Reading:
    return Reading(
        event_id=f"q{i}",
        device_id=f"d{i % 5}",
        ts=ts or T0 + dt.timedelta(seconds=i),
        values=x,
    )


def answer(i: int, y: object, ts: dt.datetime, target: str = "y") -> Label:
    return Label(event_id=f"a{i}", ref_event_id=f"q{i}", target=target, value=y, ts=ts)


class Feed:
    """Publishes one record at a time and lets the learner take it, so the order is exact."""

    def __init__(self, broker: MemoryBroker) -> None:
        self.bus = MemoryBus(broker)

    def __call__(self, learner: Learner | None, item: Reading | Label | bytes) -> None:
        if isinstance(item, Reading):
            self.bus.publish(TOPICS.readings, item.device_id, item.encode())
        elif isinstance(item, Label):
            self.bus.publish(TOPICS.labels, item.ref_event_id, item.encode())
        else:
            self.bus.publish(TOPICS.labels, "junk", item)
        self.bus.flush(1.0)
        if learner is not None:
            drain(learner)


@pytest.mark.parametrize("delay", [1, 25, 200])
def test_delayed_labels_score_exactly_like_river_with_a_delay(delay: int) -> None:
    broker = MemoryBroker(partitions=1)
    feed = Feed(broker)
    learner = make_learner(broker, MemorySnapshotStore(), SPEC, every_events=10**9)
    dataset = replay.load_dataset("river:Phishing")
    for i, x, y in stream.simulate_qa(dataset, moment=None, delay=delay):
        if y is None:
            feed(learner, question(i, x))
        else:
            feed(learner, answer(i, y, T0 + dt.timedelta(seconds=i + delay)))
    (slot,) = learner.slots
    assert slot.events_learned == 1250 and slot.pending == {}
    ours = slot.board.values()["cumulative"]
    for name in SPEC.metrics:
        river = evaluate.progressive_val_score(
            replay.load_dataset("river:Phishing"),
            build_model(SPEC),
            METRICS[name](),
            moment=None,
            delay=delay,
        )
        assert ours[name] == river.get(), name
    assert slot.counts == {"labels:matched": 1250}


def test_unknown_expired_and_foreign_labels_change_no_model() -> None:
    spec = ModelSpec.example(
        model_id="m", target="y", metrics=["Accuracy"], delayed_labels={"ttl_seconds": 60}
    )
    broker = MemoryBroker(partitions=1)
    feed = Feed(broker)
    learner = make_learner(broker, MemorySnapshotStore(), spec)
    x = {"a": 1.0, "b": 0.0}
    feed(learner, question(0, x, T0))
    feed(learner, answer(0, True, T0 + dt.timedelta(seconds=5), target="other"))  # not ours
    feed(learner, answer(99, True, T0 + dt.timedelta(seconds=5)))  # never asked
    feed(learner, question(1, x, T0 + dt.timedelta(seconds=100)))  # q0 is now 100 s old: expired
    feed(learner, answer(0, True, T0 + dt.timedelta(seconds=101)))  # too late
    feed(learner, b"{not a label")
    (slot,) = learner.slots
    assert slot.events_learned == 0
    assert list(slot.pending or {}) == ["q1"]
    assert slot.counts == {"labels:unknown": 2, "labels:expired": 1}
    learner.checkpoint()
    (letter,) = [
        DeadLetter.model_validate_json(r.value) for r in broker.log(TOPICS.dead_letters)[0]
    ]
    assert (letter.reason, letter.topic) == ("schema", TOPICS.labels)


def test_waiting_readings_survive_a_restart() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    feed = Feed(broker)
    learner = make_learner(broker, store, SPEC, every_events=1)
    rows = list(replay.readings("river:Phishing", limit=20))
    for i, reading in enumerate(rows):
        feed(learner, question(i, dict(reading.values)))
    learner.checkpoint()
    again = make_learner(broker, store, SPEC)  # a new process: only the snapshot remembers
    assert len(again.slots[0].pending or {}) == 20
    for i, reading in enumerate(rows):
        feed(again, answer(i, reading.labels["y"], T0 + dt.timedelta(seconds=30 + i)))
    assert again.slots[0].events_learned == 20
    assert again.slots[0].counts == {"labels:matched": 20}


def test_pending_readings_are_bounded() -> None:
    spec = ModelSpec.example(
        model_id="m", target="y", metrics=["Accuracy"], delayed_labels={"max_pending": 3}
    )
    broker = MemoryBroker(partitions=1)
    feed = Feed(broker)
    learner = make_learner(broker, MemorySnapshotStore(), spec)
    for i in range(5):
        feed(learner, question(i, {"a": float(i)}))
    (slot,) = learner.slots
    assert list(slot.pending or {}) == ["q2", "q3", "q4"]
    assert slot.counts == {"labels:evicted": 2}


def test_variable_delays_with_a_time_moment_score_exactly_like_river() -> None:
    """Labels revealed after a delay that differs per reading, so they come out of order."""

    def delay(x: dict, y: object) -> float:
        return float(int(x["t"]) * 7919 % 97 + 1)  # 1 … 97 seconds, shuffled

    rows = [
        ({**x, "t": float(i)}, y) for i, (x, y) in enumerate(replay.load_dataset("river:Phishing"))
    ]
    broker = MemoryBroker(partitions=1)
    feed = Feed(broker)
    learner = make_learner(broker, MemorySnapshotStore(), SPEC, every_events=10**9)
    for i, x, y in stream.simulate_qa(rows, moment="t", delay=delay):
        if y is None:
            feed(learner, question(i, x, T0 + dt.timedelta(seconds=x["t"])))
        else:
            revealed = T0 + dt.timedelta(seconds=x["t"] + delay(x, y))
            feed(learner, answer(i, y, revealed))
    ours = learner.slots[0].board.values()["cumulative"]
    for name in SPEC.metrics:
        river = evaluate.progressive_val_score(
            rows, build_model(SPEC), METRICS[name](), moment="t", delay=delay
        )
        assert ours[name] == river.get(), name
