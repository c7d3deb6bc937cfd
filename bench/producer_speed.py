"""Benchmark 2: our producer against Kafka's own ProducerPerformance, same broker and settings.

Ours: :func:`ingest.producer.publish` of simulated readings through :class:`KafkaBus` (JSON
encoding included), then one ``flush`` so every record is acknowledged; timed from the first
publish to the end of the flush. The producer is connected (one warm-up record) before timing.
A second figure publishes the same readings pre-encoded, to separate encoding from the client.

Baseline: ``org.apache.kafka.tools.ProducerPerformance`` from the broker's own jars, sending our
encoded readings as its payloads (``--payload-file``, so record sizes match), with the same
count, acks, linger.ms and batch.size as our settings, to a topic with the same partitions.
It reports its own rate, so JVM start-up is not counted against it.
"""

from __future__ import annotations

import re
import subprocess
import time
from typing import Any

from bench.common import BenchError, Context, Row, Target, best
from bench.workload import simulate
from ingest.producer import publish
from streamwise.adapters.kafka import KafkaBus
from streamwise.events import Reading

NAME = "producer"
_SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec \((?P<mb>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th"
)


def parse_summary(output: str) -> dict[str, float]:
    """The final summary line of ProducerPerformance, as numbers.

    Examples
    --------
    >>> parse_summary("100000 records sent, 58275.1 records/sec (16.45 MB/sec), 174.61 ms avg "
    ...     "latency, 493.00 ms max latency, 152 ms 50th, 385 ms 95th, 395 ms 99th, 397 ms 99.9th.")
    {'records': 100000.0, 'rate': 58275.1, 'mb': 16.45, 'avg': 174.61, 'max': 493.0,
     'p50': 152.0, 'p95': 385.0, 'p99': 395.0}
    """
    matches = list(_SUMMARY.finditer(output))
    if not matches:
        raise BenchError(f"no ProducerPerformance summary in its output:\n{output[-2000:]}")
    return {k: float(v) for k, v in matches[-1].groupdict().items()}


def ours(ctx: Context, run: str, readings: list[Reading], blobs: list[bytes] | None) -> float:
    """Records/s of KafkaBus.publish (encoding the readings unless ``blobs`` are given)."""
    topic = ctx.topic(f"producer-{run}")
    bus = KafkaBus(ctx.kafka(run))
    try:
        bus.ensure_topics([topic])
        bus.publish(topic, "warm-up", b"{}")
        bus.flush(timeout_s=30.0)
        started = time.perf_counter()
        if blobs is None:
            publish(bus, topic, readings)
        else:
            for reading, blob in zip(readings, blobs, strict=True):
                bus.publish(topic, reading.device_id, blob)
        bus.flush(timeout_s=300.0)
        return len(readings) / (time.perf_counter() - started)
    finally:
        bus.close()


def producer_performance(ctx: Context, run: str, n: int, payloads: str) -> dict[str, float]:
    """Run Kafka's ProducerPerformance; its summary line as numbers."""
    if ctx.kafka_jars is None:
        raise BenchError(
            "Kafka's jars were not found; pass --kafka-jars (scripts/services.sh "
            "caches them in .cache/kafka-<version>/jars)"
        )
    topic = ctx.topic(f"producer-{run}")
    admin = KafkaBus(ctx.kafka(run))
    admin.ensure_topics([topic])  # same partitions as ours; not auto-created with defaults
    admin.close()
    k = ctx.settings.kafka
    props = {
        "bootstrap.servers": k.bootstrap_servers,
        "acks": k.acks,
        "linger.ms": k.linger_ms,
        "batch.size": k.batch_size,
        "client.id": f"{ctx.stem}-perf",
    }
    command = [
        "java",
        "-Xmx512m",
        "-cp",
        f"{ctx.kafka_jars}/*",
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(n),
        "--throughput",
        "-1",
        "--payload-file",
        payloads,
        "--producer-props",
        *(f"{key}={value}" for key, value in props.items()),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BenchError(f"ProducerPerformance exited {done.returncode}:\n{done.stderr[-2000:]}")
    return parse_summary(done.stdout)


def run(ctx: Context) -> list[Row]:
    n = ctx.pick(20_000, 200_000)
    repeats = ctx.pick(1, 2)
    task = ctx.progress.add_task("producer vs ProducerPerformance", total=repeats * 3)
    readings = simulate(n, devices=1000)
    blobs = [r.encode() for r in readings]
    size = sum(map(len, blobs)) / len(blobs)
    payloads = ctx.workdir / "payloads.txt"
    payloads.write_bytes(b"\n".join(blobs[:20_000]))
    json_runs: list[float] = []
    bytes_runs: list[float] = []
    theirs: list[dict[str, Any]] = []
    for i in range(repeats):
        json_runs.append(ours(ctx, f"ours-json-{i}", readings, None))
        ctx.progress.advance(task)
        bytes_runs.append(ours(ctx, f"ours-bytes-{i}", readings, blobs))
        ctx.progress.advance(task)
        theirs.append(producer_performance(ctx, f"perf-{i}", n, str(payloads)))
        ctx.progress.advance(task)
    baseline = best([t["rate"] for t in theirs])
    k = ctx.settings.kafka
    note = (
        f"{n} records of {size:.0f} B (mean), acks={k.acks}, linger.ms={k.linger_ms}, "
        f"batch.size={k.batch_size}, best of {repeats}"
    )
    ctx.details[NAME] = {
        "ours_json": json_runs,
        "ours_bytes": bytes_runs,
        "perf": theirs,
        "record_bytes": size,
        "n": n,
    }
    return [
        Row(
            NAME,
            "KafkaBus.publish, JSON encoding included",
            "records/s",
            "ProducerPerformance",
            baseline,
            best(json_runs),
            target=Target("ratio_at_least", 0.5),
            note=note,
        ),
        Row(
            NAME,
            "KafkaBus.publish, pre-encoded bytes",
            "records/s",
            "ProducerPerformance",
            baseline,
            best(bytes_runs),
            note=note,
        ),
    ]
