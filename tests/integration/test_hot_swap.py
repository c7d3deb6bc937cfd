"""While the learner publishes new snapshots, the API swaps them in without failing a request."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Services
from tests.integration.helpers import cli, free_port, wait_ready

pytestmark = pytest.mark.integration

READING = {
    "values": {"temp_c": 24.0, "humidity_pct": 50.0, "vibration_mm_s": 2.0, "power_w": 180.0}
}


def test_predictions_never_fail_while_snapshots_are_swapped(
    services: Services, tmp_path: Path
) -> None:
    api_port = free_port()
    base = f"http://127.0.0.1:{api_port}"
    learner_env = {
        "STREAMWISE_LEARNER__METRICS_PORT": "0",
        "STREAMWISE_SNAPSHOT__EVERY_EVENTS": "300",
        "STREAMWISE_SNAPSHOT__EVERY_SECONDS": "0.2",
    }
    with (
        cli(services, tmp_path, "learn", "learn", **learner_env),
        cli(
            services,
            tmp_path,
            "serve",
            "serve",
            STREAMWISE_API__PORT=str(api_port),
            STREAMWISE_API__RELOAD_INTERVAL_S="0.05",
        ),
    ):
        with httpx.Client(base_url=base, timeout=5.0) as client:
            wait_ready(client)
            with cli(
                services,
                tmp_path,
                "produce",
                "produce",
                "--devices",
                "20",
                "--rate",
                "1500",
                "--duration",
                "20",
            ):
                versions: list[int] = []
                failures: list[tuple[int, str]] = []
                # Bounded: until several swaps were seen (a loaded machine may be slow to start
                # the producer), at most 60 s.
                deadline = time.monotonic() + 60.0
                while time.monotonic() < deadline and len(set(versions)) < 4:
                    response = client.post("/predict", json=READING)
                    if response.status_code != 200:
                        failures.append((response.status_code, response.text))
                    else:
                        versions.append(response.json()["model_version"])
    assert not failures, failures[:3]
    assert versions == sorted(versions), "a request was answered by an older model than before"
    assert len(set(versions)) >= 4, f"expected several swaps, saw versions {sorted(set(versions))}"
