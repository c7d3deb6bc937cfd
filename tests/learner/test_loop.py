"""The learner loop on the memory bus: River parity, exactly-once across restarts, dead letters."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from river import evaluate

from ingest import replay
from learner.loop import Learner
from learner.models import METRICS, build_model
from streamwise import snapshot
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.clock import FakeClock
from streamwise.errors import OffsetsOutOfRange, SnapshotConflict
from streamwise.events import DeadLetter
from streamwise.settings import TopicSettings
from streamwise.spec import ModelSpec

KEY = b"k" * 32
NOW = 1.9e9  # processing time after every replayed event time (2026), so none is "future"
TOPICS = TopicSettings()

CLASSIFIER = ModelSpec.example(
    model_id="phishing",
    target="y",
    pipeline=[{"name": "StandardScaler"}, {"name": "LogisticRegression"}],
    metrics=["Accuracy", "F1", "LogLoss", "ROCAUC"],
)
REGRESSOR = ModelSpec.example(
    model_id="trump",
    task="regression",
    target="y",
    pipeline=[{"name": "StandardScaler"}, {"name": "LinearRegression"}],
    metrics=["MAE", "RMSE", "R2"],
)


def publish(bus: MemoryBus, dataset: str, limit: int | None = None, skip: int = 0) -> int:
    n = 0
    for reading in itertools.islice(replay.readings(dataset, limit), skip, None):
        bus.publish(TOPICS.readings, reading.device_id, reading.encode())
        n += 1
    bus.flush(1.0)
    return n


def make_learner(
    broker: MemoryBroker,
    store: MemorySnapshotStore,
    *specs: ModelSpec,
    every_events: int = 100,
    **options: Any,
) -> Learner:
    """A started learner on the memory bus; ``options`` go to :class:`Learner` (metrics, …)."""
    learner = Learner(
        specs,
        MemoryBus(broker),
        store,
        KEY,
        topics=TOPICS,
        every_events=every_events,
        every_seconds=1e9,
        max_poll_records=50,
        poll_timeout_s=0.0,
        **{"clock": FakeClock(NOW), **options},
    )
    learner.start()
    return learner


def drain(learner: Learner) -> None:
    while learner.step():
        pass


@pytest.mark.parametrize(
    ("spec", "dataset"), [(CLASSIFIER, "river:Phishing"), (REGRESSOR, "river:TrumpApproval")]
)
def test_metrics_equal_river_progressive_val_score(spec: ModelSpec, dataset: str) -> None:
    broker, store = MemoryBroker(), MemorySnapshotStore()
    n = publish(MemoryBus(broker), dataset)
    learner = make_learner(broker, store, spec)
    drain(learner)
    (slot,) = learner.slots
    assert slot.events_learned == n
    ours = slot.board.values()["cumulative"]
    for name in spec.metrics:
        river_metric = evaluate.progressive_val_score(
            replay.load_dataset(dataset), build_model(spec), METRICS[name]()
        )
        assert ours[name] == river_metric.get(), name


def test_restart_between_snapshots_equals_uninterrupted_run() -> None:
    broker = MemoryBroker()
    publish(MemoryBus(broker), "river:Phishing")

    uninterrupted = make_learner(broker, MemorySnapshotStore(), CLASSIFIER)
    drain(uninterrupted)

    store = MemorySnapshotStore()
    crashed = make_learner(broker, store, CLASSIFIER, every_events=300)
    for _ in range(14):  # 700 records: snapshots at 300 and 600, then 100 learned and lost
        crashed.step()
    assert snapshot.decode(store.load("phishing").blob, KEY).events_learned == 600
    resumed = make_learner(broker, store, CLASSIFIER, every_events=300)
    drain(resumed)

    want, got = uninterrupted.slots[0], resumed.slots[0]
    assert got.events_learned == want.events_learned == 1250
    assert got.board.values() == want.board.values()
    probe = next(replay.readings("river:Phishing")).values
    assert got.model.predict_proba_one(probe) == want.model.predict_proba_one(probe)


def test_model_ahead_of_another_skips_what_it_already_learned() -> None:
    broker = MemoryBroker()
    publish(MemoryBus(broker), "river:Phishing", limit=400)
    store = MemorySnapshotStore()
    first = make_learner(broker, store, CLASSIFIER)
    drain(first)
    other = ModelSpec.example(model_id="phishing-nb", target="y", pipeline=[{"name": "GaussianNB"}])
    both = make_learner(broker, store, CLASSIFIER, other)
    drain(both)
    assert [s.events_learned for s in both.slots] == [400, 400]


def test_bad_records_go_to_dead_letters_with_reason_and_position() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    bus = MemoryBus(broker)
    publish(bus, "river:Phishing", limit=10)
    bus.publish(TOPICS.readings, "dev-x", b"{not json")
    bus.flush(1.0)
    learner = make_learner(broker, store, CLASSIFIER)
    drain(learner)
    learner.checkpoint()
    (slot,) = learner.slots
    assert (slot.events_learned, slot.events_rejected) == (10, 1)
    reader = MemoryBus(broker)
    reader.subscribe([TOPICS.dead_letters])
    (record,) = reader.poll(10, 0.0)
    letter = DeadLetter.model_validate_json(record.value)
    assert (letter.reason, letter.offset, letter.original()) == ("schema", 10, b"{not json")


def test_wrongly_typed_values_are_dead_lettered_per_model_and_nothing_else_is_lost() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    bus = MemoryBus(broker)
    good = list(replay.readings("river:TrumpApproval", limit=5))
    bad_feature = good[0].model_copy(update={"event_id": "bad-1", "values": {"x": "warm"}})
    bad_target = good[0].model_copy(update={"event_id": "bad-2", "labels": {"y": "high"}})
    for reading in [*good[:2], bad_feature, bad_target, *good[2:]]:
        bus.publish(TOPICS.readings, reading.device_id, reading.encode())
    bus.flush(1.0)
    learner = make_learner(broker, store, REGRESSOR)
    drain(learner)
    learner.checkpoint()
    (slot,) = learner.slots
    assert (slot.events_learned, slot.events_rejected) == (5, 2)
    assert slot.next_offsets[TOPICS.readings, 0] == 7
    reader = MemoryBus(broker)
    reader.subscribe([TOPICS.dead_letters])
    reasons = [DeadLetter.model_validate_json(r.value).reason for r in reader.poll(10, 0.0)]
    assert reasons == ["type", "type"]


def test_a_caught_up_learner_snapshots_its_tail_without_waiting_for_the_policy() -> None:
    broker, store = MemoryBroker(), MemorySnapshotStore()
    publish(MemoryBus(broker), "river:Phishing", limit=30)
    clock = FakeClock(NOW)
    learner = Learner(
        [CLASSIFIER],
        MemoryBus(broker),
        store,
        KEY,
        topics=TOPICS,
        clock=clock,
        every_events=10**6,
        every_seconds=60.0,
        poll_timeout_s=0.0,
    )
    learner.start()
    drain(learner)  # caught up, but too soon after the last snapshot
    assert snapshot.decode(store.load("phishing").blob, KEY).events_learned == 0
    clock.advance(1.0)
    learner.step()  # idle for a second with 30 unsaved events: snapshot them
    assert snapshot.decode(store.load("phishing").blob, KEY).events_learned == 30
    versions = store.versions("phishing")
    clock.advance(10.0)
    learner.step()  # idle with nothing new: no extra snapshot
    assert store.versions("phishing") == versions


def test_snapshots_beyond_the_end_of_the_topic_are_refused_not_skipped() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    publish(MemoryBus(broker), "river:Phishing", limit=50)
    first = make_learner(broker, store, CLASSIFIER)
    drain(first)
    first.checkpoint()
    recreated = MemoryBroker(partitions=1)  # the topic was deleted and made again
    publish(MemoryBus(recreated), "river:Phishing", limit=10)
    with pytest.raises(OffsetsOutOfRange, match="recreated or truncated"):
        make_learner(recreated, store, CLASSIFIER)


def test_a_store_that_lost_its_history_is_refilled_from_the_model_in_memory() -> None:
    broker, store = MemoryBroker(), MemorySnapshotStore()
    publish(MemoryBus(broker), "river:Phishing", limit=200)
    learner = make_learner(broker, store, CLASSIFIER)
    drain(learner)
    store.delete("phishing")  # e.g. Redis restarted without persistence
    publish(MemoryBus(broker), "river:Phishing", limit=300, skip=200)
    drain(learner)
    learner.checkpoint()
    restored = snapshot.decode(store.load("phishing").blob, KEY)
    assert restored.events_learned == 300 and restored.version > 1


def test_a_second_writer_is_fenced_off() -> None:
    broker, store = MemoryBroker(), MemorySnapshotStore()
    publish(MemoryBus(broker), "river:Phishing", limit=100)
    zombie = make_learner(broker, store, CLASSIFIER)
    successor = make_learner(broker, store, CLASSIFIER)
    drain(successor)
    zombie.step()
    with pytest.raises(SnapshotConflict):
        zombie.checkpoint()


def test_restart_with_per_device_features_equals_uninterrupted_run() -> None:
    import datetime as dt

    from ingest.simulator import Fleet
    from streamwise.spec import BUNDLED_SPECS

    spec = ModelSpec.from_toml(BUNDLED_SPECS / "fault-detector.toml")
    assert spec.prepare.per_device
    broker = MemoryBroker()
    bus = MemoryBus(broker)
    fleet, start = Fleet(8, seed=4), dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    for t in range(150):
        for reading in fleet.tick(start + dt.timedelta(seconds=30 * t)):
            bus.publish(TOPICS.readings, reading.device_id, reading.encode())
    bus.flush(1.0)

    uninterrupted = make_learner(broker, MemorySnapshotStore(), spec)
    drain(uninterrupted)
    store = MemorySnapshotStore()
    crashed = make_learner(broker, store, spec, every_events=250)
    for _ in range(13):
        crashed.step()
    resumed = make_learner(broker, store, spec, every_events=250)
    drain(resumed)
    want, got = uninterrupted.slots[0], resumed.slots[0]
    assert got.events_learned == want.events_learned == 1200
    assert got.board.values() == want.board.values()
    assert got.preparer.state() == want.preparer.state()
