"""Benchmark 4: the prediction API's latency at a fixed rate and its maximum throughput.

The server is the app ``streamwise serve`` builds (:mod:`bench.apiserver`, one uvicorn process,
snapshots read from Redis) with a ``POST /trivial`` endpoint added to the same app instance: the
baseline is that endpoint, in the same server, under the same load, sent the same body bytes.
The served model is the bundled ``fault-detector`` trained on 5000 simulated readings.

- Latency: :mod:`bench.loadgen` (open loop, see its docstring for why not wrk) sends
  ``/predict`` at 1000 req/s, and ``/predict/batch`` (100 readings) at 10 req/s.
- Throughput: ``wrk`` (one thread, 16 connections, closed loop) as fast as the server answers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    BenchError,
    Context,
    Row,
    Target,
    free_port,
    make_learner,
    wait_until,
)
from bench.workload import FleetBus, bundled_specs
from streamwise.adapters.redis import RedisSnapshotStore

NAME = "api"
READING = {
    "device_id": "dev-0042",
    "values": {"temp_c": 24.0, "humidity_pct": 41.0, "vibration_mm_s": 2.1, "power_w": 190.0},
}
BATCH = 100


def train(ctx: Context, run: str) -> None:
    """Snapshot the bundled models, trained on 5000 simulated readings, to Redis."""
    store = RedisSnapshotStore(ctx.redis(run))
    bus = FleetBus("api", devices=100, limit=5000)
    learner = make_learner(bundled_specs(), bus, store, ctx.settings, ctx.topics(run))
    learner.start()
    while learner.step():
        pass
    learner.checkpoint()
    store.close()


def loadgen(url: str, body: Path, rate: float, duration: float) -> dict[str, Any]:
    warmup = min(1.0, duration / 2)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            url,
            str(body),
            "--rate",
            str(rate),
            "--duration",
            str(duration),
            "--warmup",
            str(warmup),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=duration + 180,
    )
    if done.returncode != 0:
        raise BenchError(f"load generator failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    if result["errors"] or result["non2xx"]:
        raise BenchError(f"{url}: {result['errors']} errors, {result['non2xx']} non-2xx answers")
    return result


def wrk(url: str, body: Path, duration: int) -> dict[str, Any]:
    binary = shutil.which("wrk")
    if binary is None:
        raise BenchError("wrk is not installed; on Debian: apt-get install -y wrk")
    lua = ROOT / "bench" / "wrk_post.lua"
    done = subprocess.run(
        [binary, "-t1", "-c16", f"-d{round(duration)}s", "-s", str(lua), url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        env={**os.environ, "WRK_BODY_FILE": str(body)},
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed:\n{done.stdout[-1000:]}\n{done.stderr[-1000:]}")
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    if result["errors"] or result["non2xx"]:
        raise BenchError(f"{url}: wrk saw {result['errors']} errors, {result['non2xx']} non-2xx")
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def run(ctx: Context) -> list[Row]:
    import httpx

    seconds = ctx.pick(1.5, 10.0)
    wrk_seconds = ctx.pick(2, 8)  # wrk takes whole seconds
    task = ctx.progress.add_task("API latency and throughput", total=7)
    train(ctx, "api")
    single = ctx.workdir / "single.json"
    single.write_text(json.dumps(READING))
    batch = ctx.workdir / "batch.json"
    batch.write_text(json.dumps({"items": [READING] * BATCH}))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = ctx.env(ctx.topics("api"), ctx.kafka("api"), ctx.redis("api"))
    results: dict[str, dict[str, Any]] = {}
    with ctx.process("api-server", ["-m", "bench.apiserver", str(port)], env) as server:

        def ready() -> bool:
            if server.poll() is not None:
                raise BenchError(f"API server exited:\n{ctx.log_tail('api-server')}")
            try:
                return httpx.get(f"{base}/readyz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, 60, "the API to serve the trained snapshot", interval_s=0.2)
        plan = [
            ("trivial@1000", loadgen, (f"{base}/trivial", single, 1000, seconds)),
            ("predict@1000", loadgen, (f"{base}/predict", single, 1000, seconds)),
            ("trivial@10", loadgen, (f"{base}/trivial", batch, 10, seconds)),
            ("batch@10", loadgen, (f"{base}/predict/batch", batch, 10, seconds)),
            ("trivial-max", wrk, (f"{base}/trivial", single, wrk_seconds)),
            ("predict-max", wrk, (f"{base}/predict", single, wrk_seconds)),
            ("batch-max", wrk, (f"{base}/predict/batch", batch, wrk_seconds)),
        ]
        for name, tool, args in plan:
            results[name] = tool(*args)  # type: ignore[operator]
            ctx.progress.advance(task)
    ctx.details[NAME] = results
    r = results
    open_loop = f"open-loop, {min(1.0, seconds / 2):g} s warm-up, then"
    return [
        Row(
            NAME,
            "/predict p50 at 1000 req/s",
            "ms",
            "/trivial, same load",
            r["trivial@1000"]["p50_ms"],
            r["predict@1000"]["p50_ms"],
            higher_is_better=False,
            note=f"{open_loop} {seconds:g} s",
        ),
        Row(
            NAME,
            "/predict p99 at 1000 req/s",
            "ms",
            "/trivial, same load",
            r["trivial@1000"]["p99_ms"],
            r["predict@1000"]["p99_ms"],
            higher_is_better=False,
            target=Target("ours_at_most", 5.0),
            note=f"{open_loop} {seconds:g} s",
        ),
        Row(
            NAME,
            f"/predict/batch ({BATCH} readings) p50 at 10 req/s",
            "ms",
            "/trivial, same load and body",
            r["trivial@10"]["p50_ms"],
            r["batch@10"]["p50_ms"],
            higher_is_better=False,
            note=f"{open_loop} {seconds:g} s",
        ),
        Row(
            NAME,
            f"/predict/batch ({BATCH} readings) p99 at 10 req/s",
            "ms",
            "/trivial, same load and body",
            r["trivial@10"]["p99_ms"],
            r["batch@10"]["p99_ms"],
            higher_is_better=False,
            note=f"{open_loop} {seconds:g} s",
        ),
        Row(
            NAME,
            "/predict max throughput",
            "req/s",
            "/trivial",
            r["trivial-max"]["rps"],
            r["predict-max"]["rps"],
            target=Target("ratio_at_least", 0.7),
            note=f"wrk -t1 -c16, {wrk_seconds:g} s",
        ),
        Row(
            NAME,
            f"/predict/batch ({BATCH}) max throughput",
            "predictions/s",
            "/predict, one reading per request",
            r["predict-max"]["rps"],
            r["batch-max"]["rps"] * BATCH,
            note=f"wrk -t1 -c16, {wrk_seconds:g} s",
        ),
    ]
