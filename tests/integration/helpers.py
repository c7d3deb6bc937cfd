"""Running CLI processes against the real services, and bounded waiting."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from learner.loop import Learner
from streamwise import snapshot
from streamwise.adapters.kafka import KafkaBus
from streamwise.adapters.redis import RedisSnapshotStore
from streamwise.clock import SystemClock
from streamwise.spec import ModelSpec
from tests.conftest import IN_CI, Services

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    check: Callable[[], T | None], timeout_s: float, what: str, interval_s: float = 0.2
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; last value {last!r}")


@contextmanager
def cli(
    services: Services, log_dir: Path, name: str, *args: str, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m streamwise <args>`` with the test's settings; stop it afterwards."""
    full_env = {**os.environ, **services.env(), "STREAMWISE_LOG_JSON": "true", **env}
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamwise", *args],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def latest_snapshot(services: Services, model_id: str) -> snapshot.Snapshot | None:
    store = RedisSnapshotStore(services.redis)
    try:
        stored = store.load(model_id)
    finally:
        store.close()
    if stored is None:
        return None
    return snapshot.decode(stored.blob, services.settings.snapshot_key())


def learn_all(
    services: Services,
    specs: list[ModelSpec],
    total: int,
    every_events: int,
    timeout_s: float = 240,
) -> Learner:
    """An in-process learner on the real services, run until it consumed ``total`` records."""
    bus, store = KafkaBus(services.kafka), RedisSnapshotStore(services.redis)
    learner = Learner(
        specs,
        bus,
        store,
        services.settings.snapshot_key(),
        topics=services.settings.topics,
        clock=SystemClock(),
        every_events=every_events,
        every_seconds=60,
    )
    try:
        learner.start()
        wait_for(
            lambda: learner.step() == 0 and learner.gate.counts["consumed"] >= total,
            timeout_s,
            f"{total} records consumed",
            interval_s=0,
        )
        learner.checkpoint()
    finally:
        bus.close()
        store.close()
    return learner


def wait_ready(client: httpx.Client, timeout_s: float = 60) -> None:
    """Bounded wait until the API at ``client.base_url`` answers /readyz with 200."""

    def ready() -> bool:
        try:
            return client.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    wait_for(ready, timeout_s, "the API to be ready")


@contextmanager
def own_redis(
    tmp_path: Path, port: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A Redis of this test's own (no persistence), so that stopping it disturbs no other test."""
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is not installed (scripts/services.sh up installs it)")
        pytest.skip("redis-server is not installed")
    port = port or free_port()
    tmp_path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port), 10, "the test's Redis to start")
        yield proc, port
    finally:
        proc.kill()
        proc.wait()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
