"""Shared fixtures: settings for the real services, and the rule that CI never skips them.

The real services come from ``scripts/services.sh`` (``make test`` starts them). Their
addresses default to its defaults and can be moved with STREAMWISE_TEST_KAFKA_BOOTSTRAP and
STREAMWISE_TEST_REDIS_URL.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from streamwise.settings import KafkaSettings, RedisSettings, Settings, TopicSettings

KAFKA_BOOTSTRAP = os.environ.get("STREAMWISE_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
REDIS_URL = os.environ.get("STREAMWISE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host_port: str) -> None:
    """Fail under CI, skip elsewhere, when a real service is not answering."""
    if _reachable(host_port):
        return
    message = (
        f"{name} is not reachable at {host_port}; start it with `make up` (scripts/services.sh)"
    )
    if IN_CI:
        pytest.fail(message + " — under CI=true a missing service is a failure", pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class Services:
    """Settings pointing at the real services, with names unique to one test."""

    settings: Settings

    @property
    def kafka(self) -> KafkaSettings:
        return self.settings.kafka

    @property
    def redis(self) -> RedisSettings:
        return self.settings.redis

    def env(self) -> dict[str, str]:
        """The same settings as STREAMWISE_* variables, for CLI subprocesses."""
        s = self.settings
        return {
            "STREAMWISE_BUS": "kafka",
            "STREAMWISE_STORE": "redis",
            "STREAMWISE_KAFKA__BOOTSTRAP_SERVERS": s.kafka.bootstrap_servers,
            "STREAMWISE_KAFKA__GROUP_ID": s.kafka.group_id,
            "STREAMWISE_REDIS__URL": s.redis.url.get_secret_value(),
            "STREAMWISE_REDIS__KEY_PREFIX": s.redis.key_prefix,
            "STREAMWISE_TOPICS__READINGS": s.topics.readings,
            "STREAMWISE_TOPICS__LABELS": s.topics.labels,
            "STREAMWISE_TOPICS__DEAD_LETTERS": s.topics.dead_letters,
            "STREAMWISE_TOPICS__CONTROL": s.topics.control,
            "STREAMWISE_SNAPSHOT__KEY": "integration-test-key-0123456789",
        }


@pytest.fixture
def services() -> Iterator[Services]:
    """Real Kafka and Redis, with topic names and key prefix unique to this test."""
    require_service("Kafka", KAFKA_BOOTSTRAP)
    require_service("Redis", REDIS_URL.split("//", 1)[1].split("/", 1)[0])
    run = uuid.uuid4().hex[:10]
    settings = Settings(
        bus="kafka",
        store="redis",
        kafka=KafkaSettings(
            bootstrap_servers=KAFKA_BOOTSTRAP, group_id=f"test-{run}", partitions=2
        ),
        redis=RedisSettings(url=REDIS_URL, key_prefix=f"test-{run}"),
        topics=TopicSettings(
            readings=f"test-{run}.readings.v1",
            labels=f"test-{run}.labels.v1",
            dead_letters=f"test-{run}.dlq.v1",
            control=f"test-{run}.control.v1",
        ),
        snapshot={"key": "integration-test-key-0123456789"},
    )
    yield Services(settings)
