"""``python -m bench.worker CONFIG_JSON``: one learner over a generated fleet, in a fresh process.

The memory and growth benchmarks run here so that RSS is this learner's alone (no other
benchmark's leftovers). The learner is built as ``streamwise learn`` builds it, with the memory
store and its default snapshot policy; readings come from :class:`bench.workload.FleetBus`.

CONFIG_JSON keys: ``devices``, ``models`` (how many of :func:`bench.workload.growth_specs`;
0 = the bundled specs), ``events`` (stop after), ``seconds`` (or after this long),
``sample_every`` (events between RSS samples), ``warmup_events``.

Prints one JSON object per line: ``{"events": .., "rss": .., "t": ..}`` samples, then
``{"result": {...}}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.common import ROOT, BenchError, make_learner, rss_bytes
from bench.workload import FleetBus, bundled_specs, growth_specs
from streamwise.adapters.memory import MemorySnapshotStore
from streamwise.settings import Settings, TopicSettings
from streamwise.wiring import build_store


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def stream(config: dict[str, Any]) -> dict[str, Any]:
    settings = Settings.load(bus="memory")
    specs = growth_specs()[: config["models"]] if config.get("models") else bundled_specs()
    topics = TopicSettings(readings="bench.worker.readings", dead_letters="bench.worker.dlq")
    bus = FleetBus(topics.readings, devices=config["devices"])
    store = build_store(settings, MemorySnapshotStore())
    rss_start = rss_bytes()
    learner = make_learner(specs, bus, store, settings, topics)
    learner.start()
    started = time.perf_counter()
    events = learner.step()  # the first tick of the fleet is generated here
    rss_base = rss_bytes()
    samples = [(events, rss_base)]
    rss_warmup: int | None = None
    next_sample = config["sample_every"]
    deadline = started + config["seconds"]
    while events < config["events"] and time.perf_counter() < deadline:
        events += learner.step()
        if events >= next_sample:
            rss = rss_bytes()
            samples.append((events, rss))
            _emit({"events": events, "rss": rss, "t": time.perf_counter() - started})
            next_sample += config["sample_every"]
            if rss_warmup is None and events >= config["warmup_events"]:
                rss_warmup = rss
    elapsed = time.perf_counter() - started
    rss_final = rss_bytes()
    after = [rss for n, rss in samples if n >= config["warmup_events"]] + [rss_final]
    learner_s = elapsed - bus.generation_s
    return {
        "devices": config["devices"],
        "models": [spec.model_id for spec in specs],
        "events": events,
        "seconds": elapsed,
        "generation_seconds": bus.generation_s,
        "events_per_s": events / learner_s,
        "rejected": bus.dead_letters,
        "snapshots": (learner.slots[0].version or 0),
        "store": settings.store,
        "rss_start": rss_start,
        "rss_base": rss_base,
        "rss_warmup": rss_warmup,
        "rss_final": rss_final,
        "rss_max_after_warmup": max(after),
        "samples": samples,
    }


def launch(
    config: dict[str, Any],
    env: dict[str, str],
    on_sample: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run :func:`stream` in a fresh Python process; its result (samples go to ``on_sample``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.worker", json.dumps(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    result: dict[str, Any] | None = None
    try:
        for line in proc.stdout:
            message = json.loads(line)
            if "result" in message:
                result = message["result"]
            elif on_sample is not None:
                on_sample(message)
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0 or result is None:
        raise BenchError(f"worker {config} exited {proc.returncode}:\n{stderr[-2000:]}")
    return result


if __name__ == "__main__":
    _emit({"result": stream(json.loads(sys.argv[1]))})
