"""One typed settings object, read from ``STREAMWISE_*`` environment variables (``__`` nests).

Built once by the CLI (or a test) and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from streamwise.errors import ConfigError
from streamwise.quality import BUNDLED_CATALOG, SensorCatalog
from streamwise.spec import BUNDLED_SPECS, ModelSpec


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TopicSettings(_Section):
    """Versioned topic names; every topic is keyed by device id."""

    readings: str = "sensors.readings.v1"
    labels: str = "sensors.labels.v1"
    dead_letters: str = "sensors.dlq.v1"
    control: str = "streamwise.control.v1"
    predictions: str = "streamwise.predictions.v1"


class KafkaSettings(_Section):
    """Kafka client options (typed: no pass-through dicts)."""

    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "streamwise"
    group_id: str = "streamwise-learner"
    partitions: int = Field(default=2, ge=1, description="for topics streamwise creates")
    replication_factor: int = Field(default=1, ge=1)
    acks: Literal["all", "1", "0"] = "all"
    linger_ms: int = Field(default=5, ge=0)
    batch_size: int = Field(default=65_536, ge=1024)
    request_timeout_ms: int = Field(default=30_000, ge=1000)
    max_poll_records: int = Field(default=2000, ge=1)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None


class RedisSettings(_Section):
    """Redis connection for the snapshot store."""

    url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    key_prefix: str = "streamwise"
    keep_versions: int = Field(default=20, ge=1, description="older snapshots are deleted")
    socket_timeout_s: float = Field(default=5.0, gt=0)


class SnapshotSettings(_Section):
    """When the learner snapshots, and the key that signs snapshots."""

    key: SecretStr | None = Field(default=None, description="HMAC key, at least 16 characters")
    every_events: int = Field(default=5000, ge=1)
    # 1 s: predictions are at most about a second behind the stream; snapshots every second
    # cost the learner ~3-4% (docs/benchmarks.md, snapshot rows).
    every_seconds: float = Field(default=1.0, gt=0)


class ApiSettings(_Section):
    """The prediction API."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    reload_interval_s: float = Field(
        default=0.25, gt=0, description="how often to look for snapshots (one GET per model)"
    )
    max_batch: int = Field(default=1000, ge=1)
    workers: int = Field(
        default=1, ge=1, le=64, description="server processes; /metrics adds up all of them"
    )
    keys: list[SecretStr] = Field(
        default_factory=list,
        description="X-API-Key values for /predict and /feedback (JSON list); none: open",
    )
    admin_keys: list[SecretStr] = Field(
        default_factory=list,
        description="X-API-Key values for /admin/* (JSON list); they also work as keys",
    )
    public_predictions: bool = Field(
        default=False, description="/predict without a key even when keys are set"
    )


class QualitySettings(_Section):
    """Stream-level data quality: the sensor catalog, time sanity, dedup and state bounds."""

    sensors: Path = Field(default=BUNDLED_CATALOG, description="sensor catalog (TOML)")
    unknown_sensors: Literal["accept", "reject"] = "accept"
    max_future_s: float = Field(default=300.0, ge=0, description="event time ahead of now")
    max_lateness_s: float = Field(
        default=3600.0, ge=0, description="event time behind the device's newest reading"
    )
    dedup_window: int = Field(default=100_000, ge=0, description="event ids remembered")
    max_devices: int = Field(default=100_000, ge=1, description="devices with per-device state")
    max_profiled_sensors: int = Field(default=256, ge=1)

    def catalog(self) -> SensorCatalog:
        """The sensor catalog file, validated."""
        return SensorCatalog.from_toml(self.sensors, self.unknown_sensors == "reject")


class LearnerSettings(_Section):
    """The learner process."""

    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9100, ge=0, le=65535, description="0 disables /metrics")
    poll_timeout_s: float = Field(default=0.5, gt=0)


class Settings(BaseSettings):
    """Everything configurable, with defaults that run the embedded demo.

    Examples
    --------
    >>> s = Settings(bus="kafka", kafka={"bootstrap_servers": "127.0.0.1:19092"})
    >>> s.kafka.bootstrap_servers, s.topics.readings
    ('127.0.0.1:19092', 'sensors.readings.v1')
    """

    model_config = SettingsConfigDict(
        env_prefix="STREAMWISE_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    bus: Literal["memory", "kafka"] = "memory"
    store: Literal["memory", "redis"] = "memory"
    specs: list[Path] = Field(
        default_factory=lambda: sorted(BUNDLED_SPECS.glob("*.toml")),
        description="model spec files; the learner and API handle each",
    )
    topics: TopicSettings = TopicSettings()
    kafka: KafkaSettings = KafkaSettings()
    redis: RedisSettings = RedisSettings()
    snapshot: SnapshotSettings = SnapshotSettings()
    api: ApiSettings = ApiSettings()
    learner: LearnerSettings = LearnerSettings()
    quality: QualitySettings = QualitySettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Read the environment; raise :class:`ConfigError` naming each bad variable."""
        misspelt = _misspelt_variables(os.environ)
        if misspelt:
            raise ConfigError("unknown settings: " + "; ".join(misspelt))
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as err:
            problems = "; ".join(
                f"STREAMWISE_{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                for e in err.errors(include_url=False)
            )
            raise ConfigError(f"invalid settings: {problems}") from None

    def snapshot_key(self) -> bytes:
        """The HMAC key. Only a purely in-memory run may go without one (it gets a random key)."""
        if self.snapshot.key is not None:
            key = self.snapshot.key.get_secret_value()
            if len(key) < 16:
                raise ConfigError("STREAMWISE_SNAPSHOT__KEY must be at least 16 characters")
            return key.encode()
        if self.store == "memory":
            return secrets.token_bytes(32)
        raise ConfigError(
            "STREAMWISE_SNAPSHOT__KEY is required with a shared store: the learner signs snapshots "
            "with it and the API refuses any it cannot verify"
        )

    def model_specs(self) -> list[ModelSpec]:
        """Load and validate every spec file; model ids must be unique."""
        specs = [ModelSpec.from_toml(path) for path in self.specs]
        ids = [s.model_id for s in specs]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"model ids must be unique across STREAMWISE_SPECS, got {ids}")
        if not specs:
            raise ConfigError("STREAMWISE_SPECS names no spec file")
        return specs


def _misspelt_variables(environ: Mapping[str, str]) -> list[str]:
    """STREAMWISE_* variables that look like settings but name none, with a suggestion.

    pydantic-settings ignores unknown variables, so a typo would silently fall back to a
    default. Variables of other tools sharing the prefix (``scripts/services.sh`` reads
    ``STREAMWISE_KAFKA_PORT`` and friends) do not look like settings and are left alone:
    a nested name (``A__B``) must exist, and ``SECTION_FIELD`` is flagged only when
    ``SECTION__FIELD`` exists.

    Examples
    --------
    >>> _misspelt_variables({"STREAMWISE_SNAPSHOT_KEY": "x", "STREAMWISE_KAFKA_PORT": "9092",
    ...                      "STREAMWISE_API__PROT": "1", "STREAMWISE_BUS": "kafka"})
    ['STREAMWISE_API__PROT: api has no setting prot',
     'STREAMWISE_SNAPSHOT_KEY: did you mean STREAMWISE_SNAPSHOT__KEY?']
    """
    sections = {
        name: field.annotation.model_fields
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, _Section)
    }
    problems = []
    for variable in sorted(environ):
        if not variable.startswith("STREAMWISE_"):
            continue
        name = variable.removeprefix("STREAMWISE_").lower()
        if "__" in name:
            section, _, field = name.partition("__")
            if section not in sections:
                problems.append(f"{variable}: no settings section {section!r}")
            elif field not in sections[section]:
                problems.append(f"{variable}: {section} has no setting {field}")
            continue
        section, _, field = name.partition("_")
        if section in sections and field in sections[section]:
            problems.append(
                f"{variable}: did you mean STREAMWISE_{section.upper()}__{field.upper()}?"
            )
    return problems
