"""In-memory bus and snapshot store: the embedded default and the unit-test double.

They keep the semantics of the real adapters that the domain relies on: keyed partitioning,
per-partition order, offsets that start at 0, flush-then-durable, and an atomic ``latest``
pointer with a compare-and-set on save.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Sequence

from streamwise.errors import BusError, SnapshotConflict
from streamwise.ports import Offsets, Record, StoredSnapshot


class MemoryBroker:
    """Partitioned logs shared by every :class:`MemoryBus` of one process (the "cluster")."""

    def __init__(self, partitions: int = 2) -> None:
        if partitions < 1:
            raise ValueError(f"partitions must be >= 1, got {partitions}")
        self.partitions = partitions
        self._logs: dict[str, list[list[Record]]] = {}
        self.committed: dict[tuple[str, int], int] = {}
        self.changed = threading.Condition()

    def log(self, topic: str) -> list[list[Record]]:
        """The partitions of ``topic``, created on first use (like auto-created topics)."""
        with self.changed:
            if topic not in self._logs:
                self._logs[topic] = [[] for _ in range(self.partitions)]
            return self._logs[topic]

    def append(self, topic: str, key: str, value: bytes) -> None:
        # crc32 is stable across processes, unlike hash(); Kafka itself uses murmur2.
        partition = zlib.crc32(key.encode()) % self.partitions
        with self.changed:
            part = self.log(topic)[partition]
            part.append(Record(topic, partition, len(part), key, value, int(time.time() * 1000)))
            self.changed.notify_all()


class MemoryBus:
    """A client of a :class:`MemoryBroker` with its own read positions.

    Examples
    --------
    >>> bus = MemoryBus(MemoryBroker(partitions=1))
    >>> bus.publish("t", "dev-1", b"hello"); bus.flush(1.0)
    >>> bus.subscribe(["t"])
    >>> [(r.offset, r.value) for r in bus.poll(10, 0.0)]
    [(0, b'hello')]
    """

    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker
        self._pending: list[tuple[str, str, bytes]] = []
        self._positions: dict[tuple[str, int], int] = {}
        self._closed = False

    def publish(self, topic: str, key: str, value: bytes) -> None:
        if self._closed:
            raise BusError("publish on a closed bus")
        self._pending.append((topic, key, value))

    def flush(self, timeout_s: float) -> None:
        pending, self._pending = self._pending, []
        for topic, key, value in pending:
            self.broker.append(topic, key, value)

    def subscribe(self, topics: Sequence[str]) -> None:
        for topic in topics:
            for partition in range(len(self.broker.log(topic))):
                self._positions.setdefault((topic, partition), 0)

    def seek(self, next_offsets: Offsets) -> None:
        for tp, offset in next_offsets.items():
            if tp in self._positions:
                self._positions[tp] = offset

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        with self.broker.changed:
            while True:
                out = self._take(max_records)
                remaining = deadline - time.monotonic()
                if out or remaining <= 0:
                    return out
                self.broker.changed.wait(remaining)

    def _take(self, max_records: int) -> list[Record]:
        out: list[Record] = []
        for (topic, partition), position in self._positions.items():
            if len(out) >= max_records:
                break
            part = self.broker.log(topic)[partition]
            batch = part[position : position + max_records - len(out)]
            out.extend(batch)
            self._positions[topic, partition] = position + len(batch)
        return out

    def commit(self, next_offsets: Offsets) -> None:
        with self.broker.changed:
            self.broker.committed.update(next_offsets)

    def end_offsets(self) -> dict[tuple[str, int], int]:
        with self.broker.changed:
            return {(t, p): len(self.broker.log(t)[p]) for (t, p) in self._positions}

    def offsets_for_time(self, timestamp_ms: int) -> dict[tuple[str, int], int]:
        with self.broker.changed:
            out = {}
            for topic, partition in self._positions:
                part = self.broker.log(topic)[partition]
                out[topic, partition] = next(
                    (r.offset for r in part if r.timestamp_ms >= timestamp_ms), len(part)
                )
            return out

    def close(self) -> None:
        self.flush(0.0)
        self._closed = True


class MemorySnapshotStore:
    """Versioned snapshot blobs in a dict, with the same compare-and-set as the Redis store."""

    def __init__(self, keep_versions: int = 20) -> None:
        self._keep = keep_versions
        self._blobs: dict[str, dict[int, bytes]] = {}
        self._latest: dict[str, int] = {}
        self._kept: dict[str, set[int]] = {}
        self._lock = threading.Lock()

    def save(
        self,
        model_id: str,
        blob: bytes,
        version: int,
        expected_previous: int | None,
        *,
        keep: bool = False,
    ) -> None:
        with self._lock:
            current = self._latest.get(model_id)
            if current != expected_previous:
                raise SnapshotConflict(
                    f"snapshot of {model_id!r}: latest is v{current}, expected "
                    f"v{expected_previous}; another learner wrote first"
                )
            blobs = self._blobs.setdefault(model_id, {})
            blobs[version] = blob
            self._latest[model_id] = version
            kept = self._kept.setdefault(model_id, set())
            if keep:
                kept.add(version)
            for old in sorted(set(blobs) - kept)[: -self._keep]:
                del blobs[old]

    def latest_version(self, model_id: str) -> int | None:
        with self._lock:
            return self._latest.get(model_id)

    def load(self, model_id: str, version: int | None = None) -> StoredSnapshot | None:
        with self._lock:
            wanted = self._latest.get(model_id) if version is None else version
            blob = self._blobs.get(model_id, {}).get(wanted) if wanted is not None else None
            return StoredSnapshot(wanted, blob) if wanted is not None and blob is not None else None

    def versions(self, model_id: str) -> list[int]:
        with self._lock:
            return sorted(self._blobs.get(model_id, {}))

    def delete(self, model_id: str) -> None:
        with self._lock:
            self._blobs.pop(model_id, None)
            self._latest.pop(model_id, None)
            self._kept.pop(model_id, None)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None
