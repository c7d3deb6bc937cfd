"""End to end on real Kafka and Redis, through the CLI: produce -> learn -> snapshot -> serve."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from streamwise.adapters.kafka import KafkaBus
from tests.conftest import Services
from tests.integration.helpers import cli, free_port, latest_snapshot, wait_for, wait_ready

pytestmark = pytest.mark.integration

MODELS = ("fault-detector", "power-regressor")


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus samples by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(httpx.get(url).text)
        for sample in family.samples
    }


def test_simulated_events_flow_through_kafka_learner_redis_and_api(
    services: Services, tmp_path: Path
) -> None:
    # 20 devices x 150 ticks: 3000 readings, every one labelled.
    with cli(
        services,
        tmp_path,
        "produce",
        "produce",
        "--devices",
        "20",
        "--rate",
        "3000",
        "--duration",
        "1",
    ) as producer:
        assert producer.wait(timeout=60) == 0, (tmp_path / "produce.log").read_text()
    bus = KafkaBus(services.kafka)
    bus.subscribe([services.settings.topics.readings])
    end_offsets = bus.end_offsets()
    bus.close()
    produced = sum(end_offsets.values())
    assert produced == 3000

    learner_metrics, api_port = free_port(), free_port()
    learner_env = {
        "STREAMWISE_LEARNER__METRICS_PORT": str(learner_metrics),
        "STREAMWISE_SNAPSHOT__EVERY_EVENTS": "1000",
        "STREAMWISE_SNAPSHOT__EVERY_SECONDS": "1",
    }
    with cli(services, tmp_path, "learn", "learn", **learner_env) as learner:

        def all_learned() -> bool:
            snaps = [latest_snapshot(services, m) for m in MODELS]
            return all(s is not None and s.events_learned == produced for s in snaps)

        wait_for(all_learned, 90, "every reading learned by both models")
        for model_id in MODELS:
            snap = latest_snapshot(services, model_id)
            assert snap is not None
            # Exactly once: all seen, all learned, offsets cover precisely what was produced.
            assert (snap.events_seen, snap.events_learned, snap.events_rejected) == (3000, 3000, 0)
            readings = services.settings.topics.readings
            assert {
                tp: o for tp, o in snap.next_offsets.items() if tp[0] == readings
            } == end_offsets
            assert snap.metric_values["cumulative"]

        learner_samples = scrape(f"http://127.0.0.1:{learner_metrics}/metrics")
        learned = (("model", "fault-detector"), ("outcome", "learned"))
        assert learner_samples["streamwise_learner_events_total", learned] == 3000

        with cli(services, tmp_path, "serve", "serve", STREAMWISE_API__PORT=str(api_port)):
            base = f"http://127.0.0.1:{api_port}"

            with httpx.Client(base_url=base) as client:
                wait_ready(client)
            served = {m: latest_snapshot(services, m) for m in MODELS}
            reading = {
                "values": {
                    "temp_c": 31.0,
                    "humidity_pct": 40.0,
                    "vibration_mm_s": 8.0,
                    "power_w": 300.0,
                }
            }
            body = httpx.post(f"{base}/predict", json=reading).json()
            assert body["model_id"] == "fault-detector"
            assert body["model_version"] == served["fault-detector"].version  # type: ignore[union-attr]
            assert set(body["probabilities"]) == {"True", "False"}
            value = httpx.post(f"{base}/predict?model=power-regressor", json=reading).json()
            assert isinstance(value["prediction"], float)

            info = httpx.get(f"{base}/model?model=power-regressor").json()
            assert info["events_learned"] == 3000
            assert set(info["metrics"]["cumulative"]) == {"MAE", "RMSE", "R2"}

            samples = scrape(f"{base}/metrics")
            assert (
                samples["streamwise_served_model_events_learned", (("model", "fault-detector"),)]
                == 3000
            )
            mae_labels = (("metric", "MAE"), ("model", "power-regressor"), ("window", "cumulative"))
            assert samples["streamwise_served_model_metric", mae_labels] == pytest.approx(
                info["metrics"]["cumulative"]["MAE"], rel=1e-12
            )

        learner.send_signal(signal.SIGTERM)
        assert learner.wait(timeout=30) == 0, "SIGTERM must stop the learner cleanly"
