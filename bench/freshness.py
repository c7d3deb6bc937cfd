"""Benchmark 3: freshness, from an event's production to the API serving a model that has it.

Three real processes, as deployed: ``streamwise produce`` (a steady rate), ``streamwise learn``
and ``streamwise serve``, all with their default settings, on real Kafka and Redis. The bench
polls ``GET /models`` every 20 ms; when the served ``next_offsets`` (the minimum over the served
models) move past a record, that record is served, and its freshness is that moment minus the
record's Kafka timestamp (set by the producer at ``send``). Records produced in the first and
last seconds are left out, so the figures describe the steady rate, not start-up or the drain.

Baseline: a plain consumer of the same topic in the bench process (:class:`KafkaBus`): the
time from production to delivery, which no consumer can beat on this broker and machine.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.common import (
    BenchError,
    Context,
    Row,
    Target,
    free_port,
    percentile,
    wait_until,
)
from streamwise.adapters.kafka import KafkaBus

NAME = "freshness"
POLL_S = 0.02


class Watcher(threading.Thread):
    """Consumes the topic and keeps every record's timestamp and delivery delay."""

    def __init__(self, bus: KafkaBus, topic: str) -> None:
        super().__init__(name="freshness-watcher", daemon=True)
        self.bus = bus
        bus.subscribe([topic])
        self.created: dict[int, list[float]] = {}
        self.delivered: list[tuple[float, float]] = []  # (created, delivered) seconds
        self.last_record = time.monotonic()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._consume()
        except BaseException as err:  # re-raised by the benchmark's thread
            self.error = err

    def _consume(self) -> None:
        while not self.stop.is_set():
            records = self.bus.poll(2000, 0.05)
            now = time.time()
            for rec in records:
                created = rec.timestamp_ms / 1000.0
                column = self.created.setdefault(rec.partition, [])
                if rec.offset != len(column):
                    raise BenchError(f"watcher skipped to offset {rec.offset} of {rec.partition}")
                column.append(created)
                self.delivered.append((created, now))
            if records:
                self.last_record = time.monotonic()

    def ends(self) -> dict[int, int]:
        return {p: len(c) for p, c in self.created.items()}


def served_offsets(models: list[dict[str, Any]], topic: str) -> dict[int, int] | None:
    """Per partition of ``topic``, the next offset every served model has learned.

    None: nothing served yet. Other topics' offsets (control, labels) are left out.
    """
    if not models:
        return None
    out: dict[int, int] = {}
    partitions = {k for m in models for k in m["next_offsets"] if k.rsplit("/", 1)[0] == topic}
    for key in partitions:
        partition = int(key.rsplit("/", 1)[1])
        out[partition] = min(m["next_offsets"].get(key, 0) for m in models)
    return out


def freshness(
    created: dict[int, list[float]], updates: list[tuple[float, dict[int, int]]]
) -> list[tuple[float, float]]:
    """(created, served) for every record some served update covers.

    Examples
    --------
    >>> freshness({0: [1.0, 1.5, 2.0]}, [(1.2, {0: 1}), (2.4, {0: 3})])
    [(1.0, 1.2), (1.5, 2.4), (2.0, 2.4)]
    """
    out: list[tuple[float, float]] = []
    covered: dict[int, int] = {}
    for served_at, offsets in updates:
        for partition, end in offsets.items():
            column = created.get(partition, [])
            start = covered.get(partition, 0)
            for offset in range(start, min(end, len(column))):
                out.append((column[offset], served_at))
            covered[partition] = max(start, min(end, len(column)))
    return out


def run(ctx: Context) -> list[Row]:
    # 10k/s is the target; 2k/s is a rate the learner sustains on this machine (see docs).
    plan = ctx.pick([(2_000, 8)], [(10_000, 20), (2_000, 30)])
    rows = []
    for rate, duration in plan:
        rows += measure(ctx, rate, duration, edge=ctx.pick(1.0, 3.0))
    return rows


def measure(ctx: Context, rate: int, duration: int, edge: float) -> list[Row]:
    """Produce at ``rate`` for ``duration`` s through learner and API; freshness percentiles."""
    import httpx

    devices = 100
    task = ctx.progress.add_task(f"freshness at {rate}/s", total=duration)
    name = f"freshness-{rate}"
    topics = ctx.topics(name)
    env = ctx.env(topics, ctx.kafka(name), ctx.redis(name))
    watcher = Watcher(KafkaBus(ctx.kafka(f"{name}-watch")), topics.readings)  # creates topic
    port = free_port()
    updates: list[tuple[float, dict[int, int]]] = []
    with (
        ctx.process(f"{name}-learn", ["-m", "streamwise", "learn"], env) as learner,
        ctx.process(
            f"{name}-serve",
            ["-m", "streamwise", "serve"],
            {**env, "STREAMWISE_API__PORT": str(port)},
        ) as api,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client,
    ):

        def ready() -> bool:
            for command, proc in (("learn", learner), ("serve", api)):
                if proc.poll() is not None:
                    raise BenchError(
                        f"streamwise {command} exited:\n{ctx.log_tail(f'{name}-{command}')}"
                    )
            try:
                return client.get("/readyz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, 60, "the learner's first snapshot to be served", interval_s=0.2)
        watcher.start()
        produce = [
            "-m",
            "streamwise",
            "produce",
            "--devices",
            str(devices),
            "--rate",
            str(rate),
            "--duration",
            str(duration),
        ]
        started = time.monotonic()
        with ctx.process(f"{name}-produce", produce, env) as producer:
            last: dict[int, int] | None = None
            drained_deadline = None
            while True:
                offsets = served_offsets(client.get("/models").json(), topics.readings)
                if offsets is not None and offsets != last:
                    updates.append((time.time(), offsets))
                    last = offsets
                if learner.poll() is not None:
                    raise BenchError(f"the learner exited:\n{ctx.log_tail(f'{name}-learn')}")
                if watcher.error is not None:
                    raise BenchError("the watching consumer failed") from watcher.error
                ctx.progress.update(task, completed=min(duration, time.monotonic() - started))
                if producer.poll() is not None:
                    if producer.returncode != 0:
                        raise BenchError(f"producer failed:\n{ctx.log_tail(f'{name}-produce')}")
                    drained_deadline = drained_deadline or time.monotonic() + 60
                    ends = watcher.ends()
                    idle = time.monotonic() - watcher.last_record > 1.0
                    if idle and last and all(last.get(p, 0) >= e for p, e in ends.items()):
                        break
                    if time.monotonic() > drained_deadline:
                        break  # reported below as records never served
                time.sleep(POLL_S)
    watcher.stop.set()
    watcher.join(timeout=10)
    watcher.bus.close()

    created_all = [t for column in watcher.created.values() for t in column]
    if not created_all:
        raise BenchError("no records were produced")
    first, last_ts = min(created_all), max(created_all)
    lo, hi = first + edge, last_ts - edge
    in_window = [t for t in created_all if lo <= t <= hi]
    served = [(c, s) for c, s in freshness(watcher.created, updates) if lo <= c <= hi]
    never = len(in_window) - len(served)
    # A record never served within the wait counts as infinitely stale.
    ours_ms = [1000.0 * (s - c) for c, s in served] + [float("inf")] * never
    base_ms = [1000.0 * (d - c) for c, d in watcher.delivered if lo <= c <= hi]
    achieved = len(created_all) / max(last_ts - first, 1e-9)
    # The learner's pace through the whole run (it may fall behind the producer).
    caught_up = updates[-1][0] if updates else last_ts
    ctx.details.setdefault(NAME, {})[str(rate)] = {
        "target_rate": rate,
        "duration_s": duration,
        "achieved_rate": achieved,
        "served_rate": len(created_all) / max(caught_up - first, 1e-9),
        "records": len(created_all),
        "records_in_window": len(in_window),
        "never_served": never,
        "served_updates": len(updates),
        "ours_ms": {q: percentile(ours_ms, q) for q in (50, 90, 99, 100)},
        "baseline_ms": {q: percentile(base_ms, q) for q in (50, 90, 99, 100)},
    }
    note = (
        f"{rate}/s asked, {achieved:,.0f}/s produced for {duration} s by {devices} devices; "
        f"{len(updates)} served model updates; {never} records never served"
    )
    return [
        Row(
            NAME,
            f"p50 at {rate}/s",
            "ms",
            "Kafka delivery to a plain consumer",
            percentile(base_ms, 50),
            percentile(ours_ms, 50),
            higher_is_better=False,
            note=note,
        ),
        Row(
            NAME,
            f"p99 at {rate}/s",
            "ms",
            "Kafka delivery to a plain consumer",
            percentile(base_ms, 99),
            percentile(ours_ms, 99),
            higher_is_better=False,
            target=Target("ours_at_most", 1000.0),
            note=note,
        ),
    ]
