"""The only I/O shapes the domain sees: an event bus and a snapshot store.

Adapters implement these structurally (no inheritance): ``adapters/memory.py`` is the embedded
default and the unit-test double, ``adapters/kafka.py`` and ``adapters/redis.py`` the real ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

#: (topic, partition) -> the *next* offset to read. Never "last".
Offsets = Mapping[tuple[str, int], int]


@dataclass(frozen=True, slots=True)
class Record:
    """One message as read from the bus."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp_ms: int


class Bus(Protocol):
    """A partitioned, ordered log: publish keyed messages, read them back from chosen offsets."""

    def publish(self, topic: str, key: str, value: bytes) -> None:
        """Queue one message; same key, same partition. Durable only after :meth:`flush`."""
        ...

    def flush(self, timeout_s: float) -> None:
        """Block until every queued message is acknowledged; raise ``BusError`` otherwise."""
        ...

    def subscribe(self, topics: Sequence[str]) -> None:
        """Read every partition of these topics, from the beginning unless :meth:`seek` says."""
        ...

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Up to ``max_records`` next records, in offset order per partition."""
        ...

    def seek(self, next_offsets: Offsets) -> None:
        """Continue each given partition at its next offset."""
        ...

    def commit(self, next_offsets: Offsets) -> None:
        """Record progress for lag dashboards only; resume never reads it."""
        ...

    def end_offsets(self) -> dict[tuple[str, int], int]:
        """The next offset that would be written, per subscribed partition."""
        ...

    def offsets_for_time(self, timestamp_ms: int) -> dict[tuple[str, int], int]:
        """For each subscribed partition, the first offset written at or after the time.

        Partitions with nothing that recent map to their end offset.
        """
        ...

    def close(self) -> None:
        """Release connections; queued messages are flushed first."""
        ...


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A signed snapshot blob and the version it was saved as."""

    version: int
    blob: bytes


class SnapshotStore(Protocol):
    """Versioned blobs per model id, with an atomically moved ``latest`` pointer."""

    def save(
        self,
        model_id: str,
        blob: bytes,
        version: int,
        expected_previous: int | None,
        *,
        keep: bool = False,
    ) -> None:
        """Store ``blob`` as ``version`` and make it latest, in one atomic step.

        Older versions beyond the retention count are pruned, except those saved with
        ``keep`` (the versions a rollback may return to). Raises ``SnapshotConflict`` when
        latest is no longer ``expected_previous``.
        """
        ...

    def latest_version(self, model_id: str) -> int | None:
        """The latest version, cheaply, or None if nothing was saved."""
        ...

    def load(self, model_id: str, version: int | None = None) -> StoredSnapshot | None:
        """A given version, or the latest when ``version`` is None; None if absent."""
        ...

    def versions(self, model_id: str) -> list[int]:
        """Retained versions, oldest first."""
        ...

    def delete(self, model_id: str) -> None:
        """Forget every version of a model (reset); the next save starts again at any version."""
        ...

    def ping(self) -> None:
        """Raise ``StoreError`` if the store cannot be reached."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
