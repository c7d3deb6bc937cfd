"""The Kafka broker restarts mid-stream: the producer loses nothing, the learner resumes.

Runs last among the integration tests (its name): it stops and starts the shared broker of
scripts/services.sh (data kept), and waits until the broker answers again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Services
from tests.integration.helpers import cli, latest_snapshot, wait_for

pytestmark = pytest.mark.integration

SERVICES_SH = Path(__file__).resolve().parents[2] / "scripts" / "services.sh"
RATE, SECONDS = 400, 20


def broker(action: str) -> None:
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "STREAMWISE_SERVICES": "kafka",
        "STREAMWISE_KEEP_DATA": "1",
    }
    done = subprocess.run(
        ["bash", str(SERVICES_SH), action], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broker_restart_loses_nothing(services: Services, tmp_path: Path) -> None:
    if not SERVICES_SH.exists():
        pytest.skip("needs scripts/services.sh")
    status = subprocess.run(
        ["bash", str(SERVICES_SH), "status"], capture_output=True, text=True, timeout=60
    )
    if "kafka: running" not in status.stdout:
        pytest.fail(f"this test restarts the broker of scripts/services.sh: {status.stdout}")
    env = {"STREAMWISE_LEARNER__METRICS_PORT": "0", "STREAMWISE_SNAPSHOT__EVERY_SECONDS": "0.5"}
    produce = ["produce", "--rate", str(RATE), "--duration", str(SECONDS), "--devices", "20"]
    with (
        cli(services, tmp_path, "learn", "learn", **env) as learner,
        cli(services, tmp_path, "produce", *produce) as producer,
    ):
        wait_for(
            lambda: (s := latest_snapshot(services, "fault-detector")) and s.events_learned > 800,
            60,
            "learning under way",
        )
        started = time.monotonic()
        broker("down")
        time.sleep(2)
        broker("up")
        outage = time.monotonic() - started
        assert producer.wait(timeout=180) == 0, (tmp_path / "produce.log").read_text()
        total = RATE * SECONDS

        def all_learned() -> bool:
            snap = latest_snapshot(services, "fault-detector")
            return snap is not None and snap.events_learned == total

        wait_for(all_learned, 120, f"all {total} readings learned after the restart")
        assert learner.poll() is None, "the learner must outlive a broker restart"
        snap = latest_snapshot(services, "fault-detector")
        assert snap is not None
        readings = services.settings.topics.readings
        assert sum(o for (t, _), o in snap.next_offsets.items() if t == readings) == total
        print(f"\nbroker restart: {outage:.1f} s outage, {total} readings, 0 lost, 0 twice")  # noqa: T201
