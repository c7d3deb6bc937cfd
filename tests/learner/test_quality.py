"""Data quality end to end on the memory bus: whatever arrives, nothing crashes, nothing is lost.

Every consumed record ends in exactly one place: learned, dead-lettered with a reason, or
counted as a duplicate of an event already processed.
"""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.simulator import Fleet
from learner.loop import Learner
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.clock import FakeClock
from streamwise.events import DeadLetter, Reading
from streamwise.settings import QualitySettings, TopicSettings
from streamwise.spec import BUNDLED_SPECS, ModelSpec

TOPICS = TopicSettings()
SPEC = ModelSpec.from_toml(BUNDLED_SPECS / "fault-detector.toml")
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
NOW = START.timestamp() + 86_400
QUALITY = QualitySettings(max_lateness_s=600, max_future_s=300, dedup_window=10_000)
GOOD = [r for t in range(40) for r in Fleet(5, seed=9).tick(START + dt.timedelta(minutes=t))]


def _json(reading: Reading) -> dict:
    return json.loads(reading.encode())


def mutate(kind: str, i: int) -> tuple[bytes, str]:
    """One message derived from the i-th good reading, and what should become of it."""
    base = GOOD[i % len(GOOD)]
    body = _json(base)
    body["event_id"] = f"{base.event_id}-{kind}"
    if kind == "good":
        return base.encode(), "learned"
    if kind == "duplicate":
        return base.encode(), "duplicate-or-learned"
    if kind == "nan":
        return json.dumps(body).replace(
            f'"temp_c": {body["values"]["temp_c"]}', '"temp_c": NaN'
        ).encode(), "schema"
    if kind == "range":
        body["values"]["humidity_pct"] = 180.0
        return json.dumps(body).encode(), "range"
    if kind == "unit":
        body["units"]["temp_c"] = "furlongs"
        return json.dumps(body).encode(), "unit"
    if kind == "fahrenheit":
        body["values"]["temp_c"] = body["values"]["temp_c"] * 9 / 5 + 32
        body["units"]["temp_c"] = "degF"
        return json.dumps(body).encode(), "learned"
    if kind == "string":
        body["values"]["power_w"] = "high"
        return json.dumps(body).encode(), "type"
    if kind == "future":
        body["ts"] = dt.datetime.fromtimestamp(NOW + 3600, dt.UTC).isoformat()
        return json.dumps(body).encode(), "future"
    if kind == "late":
        body["ts"] = (base.ts - dt.timedelta(days=2)).isoformat()
        return json.dumps(body).encode(), "late-or-learned"
    if kind == "missing":
        del body["device_id"]
        return json.dumps(body).encode(), "schema"
    if kind == "truncated":
        return base.encode()[: len(base.encode()) // 2], "schema"
    raise AssertionError(kind)


KINDS = [
    "good",
    "duplicate",
    "nan",
    "range",
    "unit",
    "fahrenheit",
    "string",
    "future",
    "late",
    "missing",
    "truncated",
]
messages = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(KINDS), st.integers(0, len(GOOD) - 1)).map(lambda t: mutate(*t)),
        st.binary(max_size=300).map(lambda raw: (raw, "schema")),
    ),
    max_size=60,
)


def run(raw_messages: list[bytes]) -> tuple[Learner, MemoryBroker]:
    broker = MemoryBroker(partitions=2)
    bus = MemoryBus(broker)
    for n, raw in enumerate(raw_messages):
        bus.publish(TOPICS.readings, f"key-{n % 3}", raw)
    bus.flush(1.0)
    learner = Learner(
        [SPEC],
        MemoryBus(broker),
        MemorySnapshotStore(),
        b"q" * 32,
        topics=TOPICS,
        clock=FakeClock(NOW),
        every_events=25,
        poll_timeout_s=0.0,
        quality=QUALITY,
    )
    learner.start()
    while learner.step():
        pass
    learner.checkpoint()
    return learner, broker


def dead_letters(broker: MemoryBroker) -> list[DeadLetter]:
    reader = MemoryBus(broker)
    reader.subscribe([TOPICS.dead_letters])
    return [DeadLetter.model_validate_json(r.value) for r in reader.poll(10_000, 0.0)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_every_record_is_learned_dead_lettered_or_a_counted_duplicate(
    batch: list[tuple[bytes, str]],
) -> None:
    learner, broker = run([raw for raw, _ in batch])
    (slot,) = learner.slots
    counts = learner.gate.counts
    letters = dead_letters(broker)
    assert counts["consumed"] == len(batch)
    assert slot.events_learned + len(letters) + counts["duplicate"] == len(batch)
    assert slot.events_rejected == len(letters)
    assert all(letter.reason and letter.detail for letter in letters)


def test_each_kind_of_bad_input_gets_its_reason() -> None:
    cases = [mutate(kind, 3) for kind in KINDS if kind not in {"duplicate", "late"}]
    learner, broker = run([raw for raw, _ in cases])
    expected = sorted(outcome for _, outcome in cases if outcome != "learned")
    assert sorted(d.reason for d in dead_letters(broker)) == expected
    assert learner.slots[0].events_learned == 2  # the good one and the one in Fahrenheit


def test_duplicates_and_late_events_are_recognised() -> None:
    first, late = (
        GOOD[10],
        GOOD[0].model_copy(update={"event_id": "late-1", "ts": GOOD[0].ts - dt.timedelta(hours=3)}),
    )
    learner, broker = run([GOOD[0].encode(), first.encode(), first.encode(), late.encode()])
    assert learner.gate.counts == {"consumed": 4, "accepted": 2, "duplicate": 1}
    assert [d.reason for d in dead_letters(broker)] == ["late"]


def test_fahrenheit_is_learned_as_celsius() -> None:
    raw, _ = mutate("fahrenheit", 3)
    learner, _ = run([raw])
    profile = learner.stream_report()["sensors"]["temp_c"]
    assert abs(profile["mean"] - GOOD[3].values["temp_c"]) < 1e-9


def test_profile_counts_sensors_and_rejections() -> None:
    raws = [r.encode() for r in GOOD[:20]] + [mutate("range", 1)[0], b"garbage"]
    learner, _ = run(raws)
    report = learner.stream_report()
    assert report["readings"] == 20
    assert report["rejected"] == {"range": 1, "schema": 1}
    assert report["counts"] == {"consumed": 22, "accepted": 20, "duplicate": 0}
    temp = report["sensors"]["temp_c"]
    assert temp["count"] == 20 and temp["missing_ratio"] == 0.0
    assert temp["min"] <= temp["quantiles"]["p50"] <= temp["max"]
