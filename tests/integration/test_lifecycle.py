"""Model lifecycle on real Kafka and Redis: drift, promotion, serving the new champion, rollback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from streamwise import snapshot
from streamwise.adapters.kafka import KafkaBus
from streamwise.adapters.redis import RedisSnapshotStore
from tests.conftest import Services
from tests.integration.helpers import cli, free_port, latest_snapshot, wait_for, wait_ready
from tests.learner.test_lifecycle import flip_stream

pytestmark = pytest.mark.integration

SPEC = """
model_id = "flip"
task = "binary"
target = "y"
metrics = ["Accuracy", "F1"]
rolling_window = 200

[[candidates]]
name = "slow"
pipeline = [
  { name = "StandardScaler" },
  { name = "LogisticRegression", params = { optimizer = { name = "SGD", params = { lr = 2e-3 }}}},
]

[[candidates]]
name = "fast"
pipeline = [
  { name = "StandardScaler" },
  { name = "LogisticRegression", params = { optimizer = { name = "SGD", params = { lr = 0.5 } } } },
]

[selection]
metric = "Accuracy"
margin = 0.05
min_events = 100

[drift]
detector = "ADWIN"
reaction = "reset_challengers"
"""

PROBE = {"values": {"x": 0.4, "noise": 0.0}}


def _streamwise(services: Services, spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **services.env()}
    return subprocess.run(
        [sys.executable, "-m", "streamwise", "--spec", str(spec), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_drift_promotes_the_challenger_the_api_serves_it_and_rollback_restores(
    services: Services, tmp_path: Path
) -> None:
    spec = tmp_path / "flip.toml"
    spec.write_text(SPEC)
    # One partition: the concept changes at one point of one ordered stream.
    bus = KafkaBus(services.kafka.model_copy(update={"partitions": 1}))
    bus.ensure_topics([services.settings.topics.readings])
    for reading in flip_stream(2000, 2000):
        bus.publish(services.settings.topics.readings, reading.device_id, reading.encode())
    bus.flush(timeout_s=30)
    bus.close()

    api_port, metrics_port = free_port(), free_port()
    with (
        cli(
            services,
            tmp_path,
            "learn",
            "--spec",
            str(spec),
            "learn",
            STREAMWISE_LEARNER__METRICS_PORT=str(metrics_port),
            STREAMWISE_SNAPSHOT__EVERY_SECONDS="0.2",
        ),
        cli(
            services,
            tmp_path,
            "serve",
            "--spec",
            str(spec),
            "serve",
            STREAMWISE_API__PORT=str(api_port),
            STREAMWISE_API__RELOAD_INTERVAL_S="0.1",
        ),
        httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=5.0) as client,
    ):
        wait_ready(client)

        def all_learned() -> dict | None:
            info = client.get("/model").json()
            return info if info["events_learned"] == 4000 else None

        info = wait_for(all_learned, 120, "all 4000 events learned and served")
        kinds = [(e["kind"], e.get("candidate")) for e in info["lifecycle"]]
        assert info["champion"] == "fast", kinds
        drift = next(e for e in info["lifecycle"] if e["kind"] == "drift" and e["error"] == "worse")
        promotion = next(e for e in info["lifecycle"] if e["kind"] == "promotion")
        assert drift["champion"] and drift["at_event"] > 2000
        assert promotion["at_event"] > drift["at_event"] and promotion["reason"] == "auto"

        # The API answers with the champion's model of the version it serves.
        answer = client.post("/predict", json=PROBE).json()
        served = latest_snapshot(services, "flip")
        assert served is not None and served.champion == "fast"
        if answer["model_version"] == served.version:
            want = served.candidates["fast"].model.predict_proba_one(PROBE["values"])
            assert answer["probabilities"] == {str(k): v for k, v in want.items()}

        scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert 'streamwise_learner_promotions_total{model="flip",reason="auto"} 1.0' in scrape
        assert 'streamwise_learner_drifts_total{candidate="slow",model="flip"}' in scrape

        listed = _streamwise(services, spec, "models", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["champion"] == "fast"

        rolled = _streamwise(services, spec, "models", "rollback", "flip", "--wait", "30")
        assert rolled.returncode == 0, rolled.stderr
        target = promotion["previous_version"]

        def rolled_back() -> dict | None:
            now = client.get("/model").json()
            return now if now["lifecycle"][-1]["kind"] == "rollback" else None

        info = wait_for(rolled_back, 30, "the API to serve the rolled-back model")
        assert info["champion"] == "slow"
        assert info["lifecycle"][-1]["to_version"] == target
        store = RedisSnapshotStore(services.redis)
        try:
            kept = store.load("flip", target)
        finally:
            store.close()
        assert kept is not None
        before = snapshot.decode(kept.blob, services.settings.snapshot_key())
        answer = client.post("/predict", json=PROBE).json()
        want = before.model.predict_proba_one(PROBE["values"])
        assert answer["model_version"] == info["version"]
        assert answer["probabilities"] == {str(k): v for k, v in want.items()}
        assert info["candidates"]["slow"]["metrics"] == before.metric_values

        version = str(info["version"])
        shown = _streamwise(
            services, spec, "models", "show", "flip", "--version", version, "--json"
        )
        assert json.loads(shown.stdout)["lineage"]["reason"] == "rollback"
