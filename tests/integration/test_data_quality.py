"""Mixed good, bad, duplicated and late traffic on real Kafka: exact counts, exact model."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ingest import dead_letters
from ingest.simulator import Fleet
from learner.loop import ModelSlot
from streamwise.adapters.kafka import KafkaBus
from streamwise.events import Reading
from streamwise.spec import BUNDLED_SPECS, ModelSpec
from tests.conftest import Services
from tests.integration.helpers import cli, latest_snapshot, learn_all, wait_for

pytestmark = pytest.mark.integration

SPEC = ModelSpec.from_toml(BUNDLED_SPECS / "fault-detector.toml")
START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def one_partition(services: Services) -> Services:
    kafka = services.kafka.model_copy(update={"partitions": 1})
    return Services(services.settings.model_copy(update={"kafka": kafka}))


def corrupt(reading: Reading, how: str) -> bytes:
    body = json.loads(reading.encode())
    body["event_id"] += f"-{how}"
    if how == "range":
        body["values"]["humidity_pct"] = 150.0
    elif how == "unit":
        body["units"]["power_w"] = "horsepower"
    elif how == "late":
        body["ts"] = (reading.ts - dt.timedelta(days=1)).isoformat()
    elif how == "schema":
        return reading.encode()[:40]
    return json.dumps(body).encode()


def test_100k_mixed_messages_counts_add_up_and_the_model_learns_only_good_events(
    services: Services,
) -> None:
    services = one_partition(services)  # one order, so the model can be compared exactly
    fleet = Fleet(50, seed=21)
    good = [r for t in range(1800) for r in fleet.tick(START + dt.timedelta(seconds=10 * t))]
    rng = random.Random(5)
    stream: list[tuple[str, bytes]] = []
    expected: Counter[str] = Counter()
    for i, reading in enumerate(good):
        stream.append((reading.device_id, reading.encode()))
        roll = rng.random()
        if roll < 0.10:  # a bad message of one of four kinds
            how = rng.choice(["range", "unit", "schema", "late"])
            if how == "late" and i < 1000:
                how = "range"  # the device needs a history before anything can be late
            stream.append((reading.device_id, corrupt(reading, how)))
            expected[how] += 1
        elif roll < 0.15:  # a producer retry: the very same bytes again
            stream.append((reading.device_id, reading.encode()))
            expected["duplicate"] += 1
    total = len(stream)
    assert total >= 100_000

    bus = KafkaBus(services.kafka)
    for key, raw in stream:
        bus.publish(services.settings.topics.readings, key, raw)
    bus.flush(120.0)
    bus.close()

    learner = learn_all(services, [SPEC], total, every_events=20_000)
    reader = KafkaBus(services.kafka)
    letters = Counter(
        d.reason for d in dead_letters.read_all(reader, services.settings.topics.dead_letters)
    )
    reader.close()

    (slot,) = learner.slots
    bad = sum(v for k, v in expected.items() if k != "duplicate")
    assert learner.gate.counts == {
        "consumed": total,
        "accepted": len(good),
        "duplicate": expected["duplicate"],
    }
    assert slot.events_learned == len(good)
    assert slot.events_learned + sum(letters.values()) + expected["duplicate"] == total
    assert letters == {k: v for k, v in expected.items() if k != "duplicate"}
    assert sum(letters.values()) == bad

    reference = ModelSlot.fresh(SPEC)
    for reading in good:
        reference.observe(reading)
    assert slot.board.values() == reference.board.values()
    assert slot.preparer.state() == reference.preparer.state()
    for reading in good[::4999]:
        x = slot.preparer.prepare(reading).x
        assert x == reference.preparer.prepare(reading).x
        assert slot.model.predict_proba_one(x) == reference.model.predict_proba_one(x)


def test_dead_letters_can_be_inspected_and_replayed_after_a_fix(
    services: Services, tmp_path: Path
) -> None:
    fleet = Fleet(5, seed=3)
    good = [r for t in range(10) for r in fleet.tick(START + dt.timedelta(minutes=t))]
    hot = [
        r.model_copy(
            update={"event_id": f"{r.event_id}-hot", "values": {**r.values, "temp_c": 180.0}}
        )
        for r in good[:7]
    ]
    bus = KafkaBus(services.kafka)
    for reading in [*good, *hot]:
        bus.publish(services.settings.topics.readings, reading.device_id, reading.encode())
    bus.flush(30.0)
    bus.close()
    env = {
        "STREAMWISE_LEARNER__METRICS_PORT": "0",
        "STREAMWISE_SNAPSHOT__EVERY_SECONDS": "0.5",
        "STREAMWISE_SPECS": json.dumps([str(BUNDLED_SPECS / "fault-detector.toml")]),
    }

    def learned(n: int) -> bool:
        snap = latest_snapshot(services, SPEC.model_id)
        return snap is not None and snap.events_learned == n

    with cli(services, tmp_path, "learn-1", "learn", **env):
        wait_for(lambda: learned(50), 60, "the good readings learned")
    inspect = run_cli(services, "dlq", "inspect", "--json")
    assert [json.loads(line)["reason"] for line in inspect.splitlines()] == ["range"] * 7

    hotter = tmp_path / "sensors.toml"  # the fix: this site runs hot, the range was too tight
    hotter.write_text('[sensors.temp_c]\nunit = "Cel"\nmin = -60.0\nmax = 250.0\n')
    env["STREAMWISE_QUALITY__SENSORS"] = str(hotter)
    with cli(services, tmp_path, "learn-2", "learn", **env):
        run_cli(services, "dlq", "replay", "--reason", "range")
        wait_for(lambda: learned(57), 60, "the replayed readings learned")
        run_cli(services, "dlq", "replay", "--reason", "range")  # twice: recognised duplicates
        wait_for(
            lambda: (
                latest_snapshot(services, SPEC.model_id).stream_report["counts"]["duplicate"] == 7
            ),
            60,
            "the second replay counted as duplicates",
        )
    assert learned(57)


def run_cli(services: Services, *args: str) -> str:
    import os

    result = subprocess.run(
        [sys.executable, "-m", "streamwise", *args],
        capture_output=True,
        env={**os.environ, **services.env()},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()
