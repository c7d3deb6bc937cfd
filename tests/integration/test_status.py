"""``streamwise status`` on a real stack, then on the same stack with its Redis gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Services
from tests.integration.helpers import cli, free_port, own_redis, wait_for, wait_ready

pytestmark = pytest.mark.integration


def status(services: Services, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "streamwise", "status", "--json"],
        env={**os.environ, **services.env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, json.loads(done.stdout)


def test_status_tells_the_truth_with_and_without_redis(services: Services, tmp_path: Path) -> None:
    with own_redis(tmp_path) as (redis, redis_port):
        api_port, metrics_port = free_port(), free_port()
        env = {
            "STREAMWISE_REDIS__URL": f"redis://127.0.0.1:{redis_port}/0",
            "STREAMWISE_API__PORT": str(api_port),
            "STREAMWISE_LEARNER__METRICS_PORT": str(metrics_port),
        }
        with (
            cli(services, tmp_path, "learn", "learn", **env),
            cli(services, tmp_path, "serve", "serve", **env),
            httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=5.0) as client,
        ):
            wait_ready(client)
            with cli(
                services, tmp_path, "produce", "produce", "--rate", "300", "--duration", "3", **env
            ) as producer:
                producer.wait(timeout=60)

            def healthy() -> dict[str, Any] | None:
                code, report = status(services, env)
                caught_up = all(m.get("lag") == 0 for m in report["models"])
                return report if code == 0 and report["ok"] and caught_up else None

            report = wait_for(healthy, 60, "status all ok with no lag", interval_s=1)
            checks = {c["name"]: c for c in report["checks"]}
            assert {n: c["ok"] for n, c in checks.items()} == {
                "bus": True,
                "store": True,
                "learner": True,
                "api": True,
            }
            assert all(m["events_learned"] == 900 for m in report["models"]), report["models"]
            assert sum(checks["bus"]["data"]["end_offsets"].values()) == 900

            redis.kill()
            redis.wait()

            def sees_redis_gone() -> tuple[int, dict[str, Any]] | None:
                code, report = status(services, env)
                checks = {c["name"]: c for c in report["checks"]}
                api_knows = "store unreachable" in checks["api"]["detail"]
                return (code, report) if api_knows else None

            code, report = wait_for(sees_redis_gone, 30, "status to see Redis gone")
            checks = {c["name"]: c for c in report["checks"]}
            assert code == 1 and report["ok"] is False
            assert checks["store"]["ok"] is False
            assert "Redis unreachable" in checks["store"]["detail"]
            assert checks["bus"]["ok"] is True
            assert checks["api"]["ok"] is False  # ready, serving from memory, store unreachable
            assert checks["api"]["data"]["status"] == "ready"
            assert all(m["ok"] is False and "store" in m["detail"] for m in report["models"])
            # The API still answers from the models it holds.
            assert client.post("/predict", json={"values": {"temp_c": 25.0}}).status_code == 200
