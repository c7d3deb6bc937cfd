"""Workloads: simulated readings, the model specs measured, and a bus that generates a fleet.

Readings come from :class:`ingest.simulator.Fleet`, stamped a little in the past (the learner
rejects event times too far in the future), so they pass the learner's quality checks.
"""

from __future__ import annotations

import datetime as dt
import time
import zlib
from collections.abc import Sequence
from typing import Any

from ingest.simulator import Fleet
from streamwise.events import Reading
from streamwise.ports import Offsets, Record
from streamwise.spec import BUNDLED_SPECS, ModelSpec

FEATURES = ["temp_c", "humidity_pct", "vibration_mm_s", "power_w"]


def simulate(n: int, devices: int = 100, seed: int = 1, tick_s: float = 1.0) -> list[Reading]:
    """``n`` readings from a fleet, one tick of every device at a time, ending about now."""
    fleet = Fleet(devices, seed=seed)
    ticks = -(-n // devices)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=ticks * tick_s + 60.0)
    out: list[Reading] = []
    for i in range(ticks):
        out.extend(fleet.tick(start + dt.timedelta(seconds=i * tick_s)))
    return out[:n]


def _spec(model_id: str, pipeline: list[dict[str, Any]], **fields: Any) -> ModelSpec:
    data: dict[str, Any] = {
        "model_id": model_id,
        "task": "binary",
        "target": "fault",
        "features": FEATURES,
        "pipeline": pipeline,
        "metrics": ["Accuracy"],
    }
    data.update(fields)
    return ModelSpec.parse(data)


_SGD = {"name": "SGD", "params": {"lr": 0.05}}

#: Benchmark 1: one metric each, so the bare River loop updates exactly the same metric.
LEARNER_SPECS: dict[str, ModelSpec] = {
    "StandardScaler|LogisticRegression": _spec(
        "bench-logreg",
        [{"name": "StandardScaler"}, {"name": "LogisticRegression", "params": {"optimizer": _SGD}}],
    ),
    "StandardScaler|LinearRegression": _spec(
        "bench-linreg",
        [{"name": "StandardScaler"}, {"name": "LinearRegression", "params": {"optimizer": _SGD}}],
        task="regression",
        target="power_w",
        features=["temp_c", "humidity_pct"],
        metrics=["MAE"],
    ),
    "HoeffdingTreeClassifier": _spec("bench-htc", [{"name": "HoeffdingTreeClassifier"}]),
    "ARFClassifier(n_models=3)": _spec(
        "bench-arf", [{"name": "ARFClassifier", "params": {"n_models": 3, "seed": 42}}]
    ),
}


def bundled_specs() -> list[ModelSpec]:
    """The specs ``streamwise learn`` runs by default (fault-detector, power-regressor)."""
    return [ModelSpec.from_toml(path) for path in sorted(BUNDLED_SPECS.glob("*.toml"))]


def growth_specs() -> list[ModelSpec]:
    """Five models for the growth benchmark: the two bundled ones, then three more."""
    return [
        *bundled_specs(),
        _spec("bench-htc", [{"name": "HoeffdingTreeClassifier"}]),
        _spec("bench-gnb", [{"name": "GaussianNB"}]),
        _spec(
            "bench-htr",
            [{"name": "HoeffdingTreeRegressor"}],
            task="regression",
            target="power_w",
            features=["temp_c", "humidity_pct", "vibration_mm_s"],
            metrics=["MAE"],
        ),
    ]


class FleetBus:
    """A :class:`streamwise.ports.Bus` whose one topic is an endless simulated fleet.

    Records are generated when polled and never kept, so a long run measures the learner's
    memory and not a log's. Each tick of the fleet is stamped with the wall clock. The time
    spent generating and encoding is summed in ``generation_s`` so a benchmark can leave it
    out of the learner's throughput. Dead letters are counted, not stored.

    Examples
    --------
    >>> bus = FleetBus("t", devices=3, limit=4)
    >>> bus.subscribe(["t"])
    >>> [(r.key, r.partition, r.offset) for r in bus.poll(10, 0.0)]
    [('dev-0000', 1, 0), ('dev-0001', 1, 1), ('dev-0002', 1, 2)]
    >>> [r.key for r in bus.poll(10, 0.0)], bus.poll(10, 0.0)
    (['dev-0000'], [])
    """

    def __init__(
        self, topic: str, devices: int, seed: int = 0, partitions: int = 2, limit: int | None = None
    ) -> None:
        self.topic = topic
        self.fleet = Fleet(devices, seed=seed)
        self.partitions = partitions
        self.limit = limit
        self.produced = 0
        self.dead_letters = 0
        self.generation_s = 0.0
        self._buffer: list[Record] = []
        self._pos = 0
        self._next: list[int] = [0] * partitions

    def _tick(self) -> None:
        started = time.perf_counter()
        readings = self.fleet.tick(dt.datetime.now(dt.UTC))
        if self.limit is not None:
            readings = readings[: self.limit - self.produced]
        stamp = int(time.time() * 1000)
        buffer = []
        for reading in readings:
            key = reading.device_id
            partition = zlib.crc32(key.encode()) % self.partitions
            offset = self._next[partition]
            self._next[partition] = offset + 1
            buffer.append(Record(self.topic, partition, offset, key, reading.encode(), stamp))
        self._buffer, self._pos = buffer, 0
        self.produced += len(buffer)
        self.generation_s += time.perf_counter() - started

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        if self._pos >= len(self._buffer):
            if self.limit is not None and self.produced >= self.limit:
                return []
            self._tick()
        out = self._buffer[self._pos : self._pos + max_records]
        self._pos += len(out)
        return out

    def publish(self, topic: str, key: str, value: bytes) -> None:
        self.dead_letters += 1

    def flush(self, timeout_s: float) -> None:
        return None

    def subscribe(self, topics: Sequence[str]) -> None:
        return None

    def seek(self, next_offsets: Offsets) -> None:
        return None

    def commit(self, next_offsets: Offsets) -> None:
        return None

    def end_offsets(self) -> dict[tuple[str, int], int]:
        return {(self.topic, p): n for p, n in enumerate(self._next)}

    def offsets_for_time(self, timestamp_ms: int) -> dict[tuple[str, int], int]:
        return self.end_offsets()  # a live simulation: nothing older to start from

    def close(self) -> None:
        return None
