"""Settings -> adapters. The only place that chooses which bus and store implementation runs."""

from __future__ import annotations

from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.errors import ConfigError
from streamwise.ports import Bus, SnapshotStore
from streamwise.settings import Settings


def build_bus(settings: Settings, broker: MemoryBroker | None = None) -> Bus:
    """A bus client; the memory bus needs the in-process broker it shares with other clients."""
    if settings.bus == "kafka":
        from streamwise.adapters.kafka import KafkaBus  # imported only when Kafka is used

        return KafkaBus(settings.kafka)
    if broker is None:
        raise ConfigError(
            "the memory bus exists only inside one process (streamwise demo); "
            "set STREAMWISE_BUS=kafka to run services separately"
        )
    return MemoryBus(broker)


def build_store(settings: Settings, memory: MemorySnapshotStore | None = None) -> SnapshotStore:
    """The snapshot store; the memory store must be shared within the process to be useful."""
    if settings.store == "redis":
        from streamwise.adapters.redis import RedisSnapshotStore

        return RedisSnapshotStore(settings.redis)
    if memory is None:
        raise ConfigError(
            "the memory snapshot store exists only inside one process (streamwise demo); "
            "set STREAMWISE_STORE=redis to run services separately"
        )
    return memory
