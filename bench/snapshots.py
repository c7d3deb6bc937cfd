"""Benchmark 5: what snapshots cost the learner, in throughput.

The bundled specs (fault-detector and power-regressor, as ``streamwise learn`` runs them) learn
the same pre-published readings from the in-memory bus, so only the snapshot policy differs:
none (policy limits out of reach), every second, or every 1000 events (checked once per poll of
up to 2000 records); first with the memory store, then with Redis.

Snapshots grow with the learner's state (the dedup window holds up to 100k event ids), so every
measured run starts from a snapshot of a learner that already learned ``warm`` readings (the
full window in the full mode), restored through the store as after a restart, and is timed over
the next ``n`` readings. Each figure is the best of the repeats; runs alternate between policies
so that drift on a shared machine hits them all.
"""

from __future__ import annotations

import time

from bench.common import BenchError, Context, Row, Target, best, make_learner
from bench.workload import bundled_specs, simulate
from ingest.producer import publish
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.adapters.redis import RedisSnapshotStore
from streamwise.ports import SnapshotStore, StoredSnapshot
from streamwise.settings import TopicSettings

NAME = "snapshot"
NEVER = (10**12, 1e9)
POLICIES: dict[str, tuple[int, float]] = {
    "none": NEVER,
    "every 1 s": (10**12, 1.0),
    "every 1000 events": (1000, 1e9),
}
CONFIGS = [
    ("memory", "none"),
    ("memory", "every 1 s"),
    ("memory", "every 1000 events"),
    ("redis", "none"),
    ("redis", "every 1 s"),
]
TOPICS = TopicSettings(readings="bench.snapshot.readings", dead_letters="bench.snapshot.dlq")


def warm_up(ctx: Context, broker: MemoryBroker, warm: int) -> dict[str, StoredSnapshot]:
    """Learn the first ``warm`` readings and snapshot them: the state every run starts from."""
    store = MemorySnapshotStore()
    learner = make_learner(
        bundled_specs(),
        MemoryBus(broker),
        store,
        ctx.settings,
        TOPICS,
        every_events=NEVER[0],
        every_seconds=NEVER[1],
    )
    learner.start()
    done = 0
    while done < warm:
        done += learner.step()
    learner.checkpoint()
    seeds = {spec.model_id: store.load(spec.model_id) for spec in bundled_specs()}
    return {model_id: snap for model_id, snap in seeds.items() if snap is not None}


def measure(
    ctx: Context,
    broker: MemoryBroker,
    seeds: dict[str, StoredSnapshot],
    n: int,
    store_kind: str,
    policy: str,
    run: str,
) -> tuple[float, int, int]:
    """(events/s, snapshots written while draining, bytes of the last snapshot)."""
    store: SnapshotStore = (
        MemorySnapshotStore() if store_kind == "memory" else RedisSnapshotStore(ctx.redis(run))
    )
    for model_id, seed in seeds.items():
        store.save(model_id, seed.blob, seed.version, expected_previous=None)
    every_events, every_seconds = POLICIES[policy]
    learner = make_learner(
        bundled_specs(),
        MemoryBus(broker),
        store,
        ctx.settings,
        TOPICS,
        every_events=every_events,
        every_seconds=every_seconds,
    )
    try:
        learner.start()  # restores the warmed-up models and seeks past what they learned
        first_version = learner.slots[0].version or 0
        done = 0
        started = time.perf_counter()
        while done < n:
            got = learner.step()
            if not got:
                raise BenchError(f"the memory bus ran dry after {done} of {n} records")
            done += got
        elapsed = time.perf_counter() - started
        slot = learner.slots[0]
        stored = store.load(slot.spec.model_id)
        size = len(stored.blob) if stored is not None else 0
        return n / elapsed, (slot.version or 0) - first_version, size
    finally:
        store.close()


def run(ctx: Context) -> list[Row]:
    warm = ctx.pick(5_000, min(ctx.settings.quality.dedup_window, 100_000))
    n = ctx.pick(8_000, 30_000)
    repeats = ctx.pick(1, 2)
    task = ctx.progress.add_task("snapshot overhead", total=repeats * len(CONFIGS) + 1)
    broker = MemoryBroker(ctx.settings.kafka.partitions)
    bus = MemoryBus(broker)
    publish(bus, TOPICS.readings, simulate(warm + n + 4000, devices=1000))
    bus.flush(timeout_s=1.0)
    seeds = warm_up(ctx, broker, warm)
    ctx.progress.advance(task)
    rates: dict[tuple[str, str], list[float]] = {c: [] for c in CONFIGS}
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for i in range(repeats):
        for store_kind, policy in CONFIGS:
            run_name = f"snapshot-{store_kind}-{policy.replace(' ', '')}-{i}"
            rate, snapshots, size = measure(ctx, broker, seeds, n, store_kind, policy, run_name)
            rates[store_kind, policy].append(rate)
            counts[store_kind, policy] = (snapshots, size)
            ctx.progress.advance(task)
    ctx.details[NAME] = {
        f"{s}/{p}": {
            "rates": rates[s, p],
            "snapshots": counts[s, p][0],
            "last_snapshot_bytes": counts[s, p][1],
        }
        for s, p in CONFIGS
    }
    rows = []
    for store_kind, policy in CONFIGS:
        if policy == "none":
            continue
        snapshots, size = counts[store_kind, policy]
        rows.append(
            Row(
                NAME,
                f"{policy}, {store_kind} store",
                "events/s",
                "no snapshots",
                best(rates[store_kind, "none"]),
                best(rates[store_kind, policy]),
                target=Target("ratio_at_least", 0.95) if policy == "every 1 s" else None,
                note=f"2 models, {n} events after {warm} learned, {snapshots} snapshots of "
                f"~{size / 1024:.0f} KiB per model, best of {repeats}",
            )
        )
    return rows
