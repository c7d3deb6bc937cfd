"""Data-quality cost: good-event throughput with 10% bad input against clean input.

The same good readings are learned twice by the bundled specs (as ``streamwise learn`` runs
them) from the in-memory bus: once alone, once with one bad message after every ninth good one
(10% of the input), bad in the ways real fleets are bad: malformed JSON, out of range, an
unknown unit, late. Rejected messages are dead-lettered (encoded and published on the bus), so
the ratio shows what rejecting costs the good events. Target (issue 4): at least 0.9x.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from bench.common import BenchError, Context, Row, Target, best, make_learner
from bench.workload import bundled_specs, simulate
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.events import Reading
from streamwise.settings import TopicSettings

NAME = "quality"
TOPICS = TopicSettings(readings="bench.quality.readings", dead_letters="bench.quality.dlq")
BAD_EVERY = 9  # one bad message after every 9 good ones: 10% of the input


def bad_message(reading: Reading, i: int, has_history: bool) -> bytes:
    """A rejected variant of ``reading``, cycling through four kinds of bad input."""
    body = json.loads(reading.encode())
    body["event_id"] = f"{reading.event_id}-bad{i}"
    kind = i % 4
    if kind == 3 and not has_history:
        kind = 1  # nothing is late before the device has a newer reading
    if kind == 0:
        return reading.encode()[:35]  # truncated: schema
    if kind == 1:
        body["values"]["humidity_pct"] = 140.0  # range
    elif kind == 2:
        body["units"]["power_w"] = "horsepower"  # unit
    else:
        body["ts"] = (reading.ts - dt.timedelta(days=1)).isoformat()  # late
    return json.dumps(body).encode()


def measure(ctx: Context, messages: list[tuple[str, bytes]], good: int) -> float:
    """Good events per second while draining ``messages`` (all published before timing)."""
    broker = MemoryBroker(ctx.settings.kafka.partitions)
    bus = MemoryBus(broker)
    for key, raw in messages:
        bus.publish(TOPICS.readings, key, raw)
    bus.flush(timeout_s=1.0)
    learner = make_learner(
        bundled_specs(), MemoryBus(broker), MemorySnapshotStore(), ctx.settings, TOPICS
    )
    learner.start()
    done = 0
    started = time.perf_counter()
    while done < len(messages):
        got = learner.step()
        if not got:
            raise BenchError(f"the memory bus ran dry after {done} of {len(messages)} records")
        done += got
    elapsed = time.perf_counter() - started
    learned = learner.slots[0].events_learned
    if learned != good:
        raise BenchError(f"learned {learned} readings, expected the {good} good ones")
    return good / elapsed


def run(ctx: Context) -> list[Row]:
    n = ctx.pick(6_000, 40_000)
    repeats = ctx.pick(1, 3)
    devices = 500
    readings = simulate(n, devices=devices)
    clean = [(r.device_id, r.encode()) for r in readings]
    mixed = []
    for i, reading in enumerate(readings):
        mixed.append((reading.device_id, reading.encode()))
        if i % BAD_EVERY == BAD_EVERY - 1:
            bad_raw = bad_message(reading, i // BAD_EVERY, has_history=i >= devices)
            mixed.append((reading.device_id, bad_raw))
    bad = len(mixed) - len(clean)
    task = ctx.progress.add_task("data-quality cost", total=2 * repeats)
    clean_rates, mixed_rates = [], []
    for _ in range(repeats):  # alternate, so drift on a shared machine hits both alike
        clean_rates.append(measure(ctx, clean, len(clean)))
        ctx.progress.advance(task)
        mixed_rates.append(measure(ctx, mixed, len(clean)))
        ctx.progress.advance(task)
    ctx.details[NAME] = {"clean": clean_rates, "mixed": mixed_rates, "good": len(clean), "bad": bad}
    return [
        Row(
            NAME,
            "good events with 10% bad input",
            "events/s",
            "clean input",
            best(clean_rates),
            best(mixed_rates),
            target=Target("ratio_at_least", 0.9),
            note=f"{len(clean)} good + {bad} bad ({100 * bad / len(mixed):.0f}%: schema, range, "
            f"unit, late), 2 bundled models, memory bus, best of {repeats}",
        )
    ]
