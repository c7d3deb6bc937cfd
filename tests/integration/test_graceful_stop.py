"""SIGTERM: the learner finishes its batch, writes a snapshot of everything it learned, exits 0."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import Services
from tests.integration.helpers import cli, free_port, latest_snapshot, wait_for
from tests.integration.test_crash_recovery import MODELS, produce

pytestmark = pytest.mark.integration


def learned_so_far(port: int) -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0).text
    except httpx.TransportError:
        return 0.0  # not listening yet
    found = re.search(
        r'^streamwise_learner_events_total\{model="fault-detector",outcome="learned"\} (\S+)$',
        text,
        flags=re.MULTILINE,
    )
    return float(found.group(1)) if found else 0.0


def test_sigterm_saves_all_work_and_a_restart_learns_only_the_rest(
    services: Services, tmp_path: Path
) -> None:
    single = Services(
        services.settings.model_copy(
            update={"kafka": services.kafka.model_copy(update={"partitions": 1})}
        )
    )
    total = len(produce(single, ticks=1000))  # 20k readings
    port = free_port()
    env = {
        "STREAMWISE_KAFKA__PARTITIONS": "1",
        "STREAMWISE_SNAPSHOT__EVERY_EVENTS": "1000000",  # no periodic snapshot: only the last
        "STREAMWISE_SNAPSHOT__EVERY_SECONDS": "3600",
        "STREAMWISE_LEARNER__METRICS_PORT": str(port),
    }
    with cli(single, tmp_path, "learn-1", "learn", **env) as learner:
        wait_for(lambda: learned_so_far(port) >= 3000, 60, "the learner to be mid-stream")
        learner.send_signal(signal.SIGTERM)
        assert learner.wait(timeout=30) == 0
    stopped = {m: latest_snapshot(single, m) for m in MODELS}
    for snap in stopped.values():
        assert snap is not None and 3000 <= snap.events_learned < total
        readings = {
            o for (t, _), o in snap.next_offsets.items() if t == single.settings.topics.readings
        }
        assert readings == {snap.events_learned}  # the snapshot covers exactly what was learned
    assert "stopping" in (tmp_path / "learn-1.log").read_text()

    with cli(
        single, tmp_path, "learn-2", "learn", **{**env, "STREAMWISE_LEARNER__METRICS_PORT": "0"}
    ):

        def done() -> bool:
            snaps = [latest_snapshot(single, m) for m in MODELS]
            return all(s is not None and s.events_learned == total for s in snaps)

        wait_for(done, 120, f"all {total} readings learned after the restart")
    log = (tmp_path / "learn-2.log").read_text()
    assert f'"events_learned": {stopped[MODELS[0]].events_learned}' in log  # resumed there
