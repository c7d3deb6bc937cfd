"""kill -9 the learner at random moments, 20 times: nothing is lost or learned twice, and the
final models equal an uninterrupted run's, bit for bit."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from ingest.producer import publish
from ingest.simulator import Fleet
from learner.loop import Learner
from streamwise.adapters.kafka import KafkaBus
from streamwise.adapters.memory import MemorySnapshotStore
from streamwise.adapters.redis import RedisSnapshotStore
from streamwise.clock import FakeClock
from streamwise.features import to_x
from streamwise.settings import Settings
from tests.conftest import Services
from tests.integration.helpers import cli, latest_snapshot, wait_for

pytestmark = pytest.mark.integration

N_TICKS, N_DEVICES = 3000, 20  # 60k readings
KILLS = 20
MODELS = ("fault-detector", "power-regressor")
NOW = 1.9e9


def produce(services: Services, ticks: int = N_TICKS) -> list:
    import datetime as dt

    fleet = Fleet(N_DEVICES, seed=11)
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    readings = [r for t in range(ticks) for r in fleet.tick(start + dt.timedelta(seconds=t))]
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
        "STREAMWISE_SNAPSHOT__EVERY_EVENTS": "1500",
        "STREAMWISE_SNAPSHOT__EVERY_SECONDS": "3600",
        "STREAMWISE_KAFKA__MAX_POLL_RECORDS": "500",
        "STREAMWISE_LEARNER__METRICS_PORT": "0",
    }

    # Kill -9 at random moments (while learning, while writing a snapshot), restart each time.
    rng = random.Random(7)
    store = RedisSnapshotStore(single.redis)
    kills = 0
    try:
        while kills < KILLS:
            before = store.latest_version(MODELS[0])
            with cli(single, tmp_path, f"learn-{kills}", "learn", **env) as learner:
                # Once this process has written a snapshot of its own, it is mid-stream.
                wait_for(
                    lambda b=before, p=learner: (
                        store.latest_version(MODELS[0]) != b or p.poll() is not None
                    ),
                    60,
                    "the restarted learner to write a snapshot",
                    interval_s=0.02,
                )
                assert learner.poll() is None, (tmp_path / f"learn-{kills}.log").read_text()
                time.sleep(rng.uniform(0.0, 0.4))
                learner.send_signal(signal.SIGKILL)
                learner.wait(timeout=10)
            kills += 1
            snap = latest_snapshot(single, MODELS[0])
            assert snap is not None
            if snap.events_learned == total:
                break  # learned everything before the planned number of kills
    finally:
        store.close()

    with cli(single, tmp_path, "learn-final", "learn", **env):

        def done() -> bool:
            snaps = [latest_snapshot(single, m) for m in MODELS]
            return all(s is not None and s.events_learned == total for s in snaps)

        wait_for(done, 180, f"all {total} readings learned after {kills} kills")
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
    checked = 0
    for slot in reference.slots:
        snap = resumed[slot.spec.model_id]
        assert snap is not None
        assert (snap.events_seen, snap.events_learned) == (total, total)
        readings_offsets = {
            tp: o for tp, o in snap.next_offsets.items() if tp[0] == settings.topics.readings
        }
        assert readings_offsets == {(settings.topics.readings, 0): total}
        assert snap.metric_values == slot.board.values()
        mismatches = 0
        for name, candidate in snap.candidates.items():
            want = slot.candidates[name]
            assert candidate.metric_values == want.values(), (slot.spec.model_id, name)
            for reading in probes:
                x = to_x(reading, slot.spec)
                mismatches += candidate.model.predict_one(x) != want.state.model.predict_one(x)
        assert mismatches == 0
        checked += snap.events_learned
    print(f"\ncrash test: {kills} kills survived, {checked} events checked, 0 mismatches")  # noqa: T201
