"""Backfill: a new model starts mid-topic (time, offset or end) while trained ones go on."""

from __future__ import annotations

import itertools
import time

import pytest
from river import evaluate

from ingest import replay
from learner.loop import Learner, StartAt
from learner.models import METRICS, build_model
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.errors import StreamwiseError
from streamwise.spec import ModelSpec
from tests.learner.test_loop import CLASSIFIER, drain, make_learner, publish

NEWCOMER = ModelSpec.example(
    model_id="phishing-nb",
    target="y",
    pipeline=[{"name": "GaussianNB"}],
    metrics=["Accuracy", "LogLoss"],
)


def learner_at(
    broker: MemoryBroker, store: MemorySnapshotStore, start_at: StartAt, *specs: ModelSpec
) -> Learner:
    return make_learner(broker, store, *specs, start_at=start_at)


def two_phases(broker: MemoryBroker) -> int:
    """300 readings, a pause, 300 more; returns a time between the two (ms)."""
    bus = MemoryBus(broker)
    publish(bus, "river:Phishing", limit=300)
    time.sleep(0.02)
    between = int(time.time() * 1000)
    time.sleep(0.02)
    publish(bus, "river:Phishing", limit=600, skip=300)
    return between


def test_a_backfill_from_a_time_learns_exactly_what_was_written_since() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    between = two_phases(broker)
    live = make_learner(broker, store, CLASSIFIER)
    drain(live)
    assert live.slots[0].events_learned == 600

    backfill = learner_at(broker, store, StartAt(time_ms=between), NEWCOMER)
    drain(backfill)
    (slot,) = backfill.slots
    assert slot.events_learned == 300
    tail = itertools.islice(replay.load_dataset("river:Phishing"), 300, 600)
    river = evaluate.progressive_val_score(tail, build_model(NEWCOMER), METRICS["Accuracy"]())
    assert slot.board.values()["cumulative"]["Accuracy"] == river.get()

    # The live learner is untouched, and a restart of the backfill resumes from its snapshot.
    assert store.latest_version(CLASSIFIER.model_id) == live.slots[0].version
    again = learner_at(broker, store, StartAt(time_ms=0), NEWCOMER)  # the snapshot wins
    drain(again)
    assert again.slots[0].events_learned == 300


@pytest.mark.parametrize(
    ("start_at", "learned"), [(StartAt(offset=450), 150), (StartAt(end=True), 0)]
)
def test_backfill_from_an_offset_or_the_end(start_at: StartAt, learned: int) -> None:
    broker = MemoryBroker(partitions=1)
    two_phases(broker)
    backfill = learner_at(broker, MemorySnapshotStore(), start_at, NEWCOMER)
    drain(backfill)
    assert backfill.slots[0].events_learned == learned


def test_a_new_model_mid_topic_beside_trained_ones_is_refused_clearly() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    two_phases(broker)
    drain(make_learner(broker, store, CLASSIFIER))
    with pytest.raises(StreamwiseError, match="run a backfill in a learner of its own"):
        learner_at(broker, store, StartAt(offset=100), CLASSIFIER, NEWCOMER)
