"""Redis goes away mid-stream and comes back empty: the API keeps serving and says so, the
learner keeps learning and re-creates its snapshots, and nothing is learned twice or lost."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from streamwise import snapshot
from streamwise.adapters.redis import RedisSnapshotStore
from streamwise.settings import RedisSettings
from tests.conftest import Services
from tests.integration.helpers import cli, free_port, own_redis, wait_for, wait_ready

pytestmark = pytest.mark.integration

RATE, SECONDS = 300, 12


def test_redis_outage_and_flush_lose_nothing(services: Services, tmp_path: Path) -> None:
    api_port = free_port()
    with own_redis(tmp_path / "first") as (redis, redis_port):
        url = f"redis://127.0.0.1:{redis_port}/0"
        env = {
            "STREAMWISE_REDIS__URL": url,
            "STREAMWISE_API__PORT": str(api_port),
            "STREAMWISE_LEARNER__METRICS_PORT": "0",
        }
        learn = cli(services, tmp_path, "learn", "learn", **env)
        serve = cli(
            services, tmp_path, "serve", "serve", STREAMWISE_API__RELOAD_INTERVAL_S="0.1", **env
        )
        produce = cli(
            services,
            tmp_path,
            "produce",
            "produce",
            "--rate",
            str(RATE),
            "--duration",
            str(SECONDS),
            **env,
        )
        with (
            learn as learner,
            serve,
            httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=5.0) as client,
        ):
            wait_ready(client)
            with produce as producer:
                wait_for(
                    lambda: client.get("/model").json()["events_learned"] > 300, 30, "learning"
                )
                redis.kill()
                redis.wait()

                def serving_without_store() -> bool:
                    ready = client.get("/readyz")
                    return ready.status_code == 200 and ready.json()["store"] == "unreachable"

                wait_for(serving_without_store, 15, "/readyz to report the store unreachable")
                for _ in range(5):
                    answer = client.post("/predict", json={"values": {"temp_c": 25.0}})
                    assert answer.status_code == 200  # from the model held in memory
                time.sleep(2)
                assert learner.poll() is None, "the learner must outlive a Redis outage"

                # Redis comes back without its data (no persistence): the learner re-creates it.
                with own_redis(tmp_path / "second", port=redis_port):
                    wait_for(
                        lambda: client.get("/readyz").json()["store"] == "ok", 20, "store ok again"
                    )
                    producer.wait(timeout=60)
                    produced = RATE * SECONDS
                    store = RedisSnapshotStore(
                        RedisSettings(url=url, key_prefix=services.redis.key_prefix)
                    )
                    key = services.settings.snapshot_key()

                    def all_learned() -> snapshot.Snapshot | None:
                        stored = store.load("fault-detector")
                        snap = snapshot.decode(stored.blob, key) if stored else None
                        return snap if snap and snap.events_learned == produced else None

                    snap = wait_for(all_learned, 60, f"all {produced} readings in the snapshot")
                    store.close()
                    assert sum(snap.next_offsets.values()) == produced  # each exactly once
                    assert client.get("/model").json()["events_learned"] == produced
        log = (tmp_path / "learn.log").read_text()
        assert "snapshot store unavailable" in log
        assert "re-creating" in log
