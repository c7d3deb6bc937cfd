"""A real Prometheus server for one test: throwaway config and TSDB, a free loopback port.

``scripts/services.sh up`` installs Debian's ``prometheus`` package but never runs it. A test
asks the ``prometheus`` fixture (tests/integration/conftest.py) for a server scraping the
targets it names. The server is stopped when the test ends, and dies with the test process if
that is killed first (the parent-death signal), so no Prometheus outlives a run.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import IN_CI
from tests.integration.helpers import free_port, wait_for

SCRAPE_INTERVAL = "1s"
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
_PR_SET_PDEATHSIG = 1

Labels = tuple[tuple[str, str], ...]


def prometheus_binary() -> str:
    """The binary to run; fail under CI, skip elsewhere, when it is not installed."""
    found = os.environ.get("STREAMWISE_TEST_PROMETHEUS") or shutil.which("prometheus")
    if found is None and os.access("/usr/bin/prometheus", os.X_OK):
        found = "/usr/bin/prometheus"
    if found and os.access(found, os.X_OK):
        return found
    message = (
        "prometheus is not installed; `scripts/services.sh up` (make up) installs Debian's "
        "prometheus package"
    )
    if IN_CI:
        pytest.fail(message + " — under CI=true a missing service is a failure", pytrace=False)
    pytest.skip(message)


def scrape_config(targets: Mapping[str, str]) -> dict[str, Any]:
    """prometheus.yml scraping each ``job -> http://host:port/path`` every second."""
    jobs = []
    for job, url in targets.items():
        scheme, _, rest = url.partition("://")
        address, slash, path = rest.partition("/")
        jobs.append(
            {
                "job_name": job,
                "scheme": scheme,
                "metrics_path": slash + path or "/metrics",
                "static_configs": [{"targets": [address]}],
            }
        )
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_INTERVAL,
            "evaluation_interval": SCRAPE_INTERVAL,
        },
        "scrape_configs": jobs,
    }


_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: the child only makes one call


def _die_with_parent() -> None:
    """In the child, between fork and exec: Linux kills it when the test process dies."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class Prometheus:
    """A running server and its HTTP API."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, path: str, **params: str | float) -> Any:
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=5.0)
        body = response.json()
        if body.get("status") != "success":
            raise AssertionError(f"Prometheus {path} {params}: {body}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant vector of ``expr`` (now, or at Unix time ``at``)."""
        params: dict[str, str | float] = {"query": expr}
        if at is not None:
            params["time"] = at
        data = self.api("query", **params)
        assert data["resultType"] == "vector", f"{expr}: {data['resultType']}, not a vector"
        return data["result"]  # type: ignore[no-any-return]

    def values(self, expr: str, at: float | None = None) -> dict[Labels, float]:
        """``expr``'s samples by sorted labels."""
        return {
            tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in self.query(expr, at)
        }

    def targets_up(self) -> dict[str, str]:
        """Health of each active target, by job."""
        active = self.api("targets", state="active")["activeTargets"]
        return {t["labels"]["job"]: t["health"] for t in active}


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE_S)


@contextmanager
def run_prometheus(targets: Mapping[str, str], work_dir: Path) -> Iterator[Prometheus]:
    """Start Prometheus scraping ``targets`` (job -> metrics URL); stop it on exit."""
    binary = prometheus_binary()
    work_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "prometheus.yml"
    config.write_text(yaml.safe_dump(scrape_config(targets), sort_keys=False))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work_dir / "prometheus.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={work_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C meant for pytest does not reach it first
            preexec_fn=_die_with_parent,
        )
    server = Prometheus(url, process, log_path)
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(
                    f"prometheus exited with {process.returncode}: {log_path.read_text()}"
                )
            return _ready(url)

        wait_for(ready, START_TIMEOUT_S, f"Prometheus ready at {url}", interval_s=0.1)
        yield server
    finally:
        _stop(process)
