"""Settings: environment parsing, clear errors, and the snapshot key rule."""

from __future__ import annotations

import pytest

from streamwise.errors import ConfigError
from streamwise.settings import Settings


def test_environment_overrides_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMWISE_BUS", "kafka")
    monkeypatch.setenv("STREAMWISE_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    monkeypatch.setenv("STREAMWISE_SNAPSHOT__EVERY_EVENTS", "42")
    settings = Settings.load()
    assert settings.bus == "kafka"
    assert settings.kafka.bootstrap_servers == "127.0.0.1:19092"
    assert settings.snapshot.every_events == 42


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMWISE_SNAPSHOT__EVERY_EVENTS", "-1")
    with pytest.raises(ConfigError, match="STREAMWISE_SNAPSHOT__EVERY_EVENTS"):
        Settings.load()


def test_shared_store_requires_a_strong_key() -> None:
    with pytest.raises(ConfigError, match="STREAMWISE_SNAPSHOT__KEY is required"):
        Settings(store="redis").snapshot_key()
    with pytest.raises(ConfigError, match="at least 16"):
        Settings(store="redis", snapshot={"key": "short"}).snapshot_key()
    assert Settings(store="redis", snapshot={"key": "k" * 16}).snapshot_key() == b"k" * 16
    assert len(Settings().snapshot_key()) == 32  # in-memory only: a random key per process


def test_the_key_never_shows_in_repr() -> None:
    assert "supersecretvalue" not in repr(Settings(snapshot={"key": "supersecretvalue"}))


def test_bundled_specs_load_with_unique_ids() -> None:
    ids = [spec.model_id for spec in Settings().model_specs()]
    assert ids == ["fault-detector", "power-regressor"]


def test_misspelt_variables_are_errors_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMWISE_SNAPSHOT_KEY", "k" * 20)
    with pytest.raises(ConfigError, match="did you mean STREAMWISE_SNAPSHOT__KEY"):
        Settings.load()


def test_other_tools_variables_with_the_prefix_are_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STREAMWISE_KAFKA_PORT", "19092")  # read by scripts/services.sh
    monkeypatch.setenv("STREAMWISE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert Settings.load().kafka.bootstrap_servers == "127.0.0.1:9092"
