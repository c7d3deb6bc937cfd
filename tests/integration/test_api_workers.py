"""``serve`` with several worker processes: /metrics adds up the requests of every worker."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from streamwise.settings import Settings
from tests.conftest import Services
from tests.integration.helpers import cli, free_port, learn_all, wait_ready

pytestmark = pytest.mark.integration

PREDICTIONS = 40


def _count(text: str, model: str) -> float:
    pattern = rf'^streamwise_api_predictions_total\{{model="{model}"\}} (\S+)$'
    found = re.search(pattern, text, flags=re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_two_workers_share_one_port_and_their_metrics_add_up(
    services: Services, tmp_path: Path
) -> None:
    with cli(services, tmp_path, "produce", "produce", "--rate", "500", "--duration", "1") as p:
        p.wait(timeout=60)
    learn_all(services, Settings().model_specs(), total=500, every_events=100)
    port = free_port()
    env = {"STREAMWISE_API__PORT": str(port), "STREAMWISE_API__WORKERS": "2"}
    with (
        cli(services, tmp_path, "serve", "serve", **env),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client,
    ):
        wait_ready(client)
        for i in range(PREDICTIONS):
            # A fresh connection each time, so that both workers answer some of them.
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as fresh:
                answer = fresh.post("/predict", json={"values": {"temp_c": 20.0 + i}})
            assert answer.status_code == 200, answer.text
        for _ in range(10):  # whichever worker answers /metrics reports every worker's count
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as fresh:
                text = fresh.get("/metrics").text
            assert _count(text, "fault-detector") == PREDICTIONS
            assert 'streamwise_served_model_version{model="fault-detector"}' in text
