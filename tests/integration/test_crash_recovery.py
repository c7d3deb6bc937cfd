"""kill -9 the learner between snapshots: after a restart nothing is lost or learned twice."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from ingest.producer import publish
from ingest.simulator import Fleet
from learner.loop import Learner
from streamwise.adapters.kafka import KafkaBus
from streamwise.adapters.memory import MemorySnapshotStore
from streamwise.clock import FakeClock
from streamwise.features import to_x
from streamwise.settings import Settings
from tests.conftest import Services
from tests.integration.helpers import cli, latest_snapshot, wait_for

pytestmark = pytest.mark.integration

N_TICKS, N_DEVICES = 1500, 20  # 30k readings
MODELS = ("fault-detector", "power-regressor")
NOW = 1.9e9


def produce(services: Services) -> list:
    import datetime as dt

    fleet = Fleet(N_DEVICES, seed=11)
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    readings = [r for t in range(N_TICKS) for r in fleet.tick(start + dt.timedelta(seconds=t))]
    bus = KafkaBus(services.kafka)
    publish(bus, services.settings.topics.readings, readings)
    bus.flush(60.0)
    bus.close()
    return readings


def test_killed_learner_resumes_to_the_same_model_as_an_uninterrupted_run(
    services: Services, tmp_path: Path
) -> None:
    # One partition: the record order is then fixed, so "the same model" can mean bit-for-bit.
    single = Services(
        services.settings.model_copy(
            update={"kafka": services.kafka.model_copy(update={"partitions": 1})}
        )
    )
    readings = produce(single)
    total = len(readings)
    env = {
        "STREAMWISE_KAFKA__PARTITIONS": "1",
        "STREAMWISE_SNAPSHOT__EVERY_EVENTS": "4000",
        "STREAMWISE_SNAPSHOT__EVERY_SECONDS": "3600",
        "STREAMWISE_KAFKA__MAX_POLL_RECORDS": "500",
        "STREAMWISE_LEARNER__METRICS_PORT": "0",
    }

    with cli(single, tmp_path, "learn-1", "learn", **env) as first:

        def partly_learned() -> int | None:
            snap = latest_snapshot(single, MODELS[0])
            return snap.events_learned if snap and snap.events_learned >= 8000 else None

        wait_for(partly_learned, 120, "a few snapshots", interval_s=0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    at_kill = {m: latest_snapshot(single, m) for m in MODELS}
    assert all(s is not None and 0 < s.events_learned < total for s in at_kill.values())

    with cli(single, tmp_path, "learn-2", "learn", **env):

        def done() -> bool:
            snaps = [latest_snapshot(single, m) for m in MODELS]
            return all(s is not None and s.events_learned == total for s in snaps)

        wait_for(done, 180, f"all {total} readings learned after the restart")
    resumed = {m: latest_snapshot(single, m) for m in MODELS}

    # The reference: one uninterrupted pass over the same topic.
    settings: Settings = single.settings
    bus = KafkaBus(settings.kafka)
    reference = Learner(
        settings.model_specs(),
        bus,
        MemorySnapshotStore(),
        settings.snapshot_key(),
        topics=settings.topics,
        clock=FakeClock(NOW),
        every_events=10**9,
    )
    reference.start()
    wait_for(
        lambda: reference.step() == 0 and reference.slots[0].events_learned == total,
        120,
        "the reference run",
        interval_s=0,
    )
    bus.close()

    probes = readings[::997]
    for slot in reference.slots:
        snap = resumed[slot.spec.model_id]
        assert snap is not None
        assert (snap.events_seen, snap.events_learned) == (total, total)
        readings_offsets = {
            tp: o for tp, o in snap.next_offsets.items() if tp[0] == settings.topics.readings
        }
        assert readings_offsets == {(settings.topics.readings, 0): total}
        assert snap.metric_values == slot.board.values()
        for reading in probes:
            x = to_x(reading, slot.spec)
            assert snap.model.predict_one(x) == slot.model.predict_one(x)
