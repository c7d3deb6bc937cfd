"""Where the time goes: py-spy profiles of the workloads the benchmarks measure.

``python -m bench.profile learner|producer|api [--seconds S] [--out DIR]``

- ``learner``: the learner draining a Kafka topic of readings into the linear
  StandardScaler|LogisticRegression model, snapshots to Redis (benchmark 1's "ours");
- ``producer``: ``ingest.producer.publish`` through KafkaBus (benchmark 2's "ours");
- ``api``: the API server while wrk sends ``POST /predict`` as fast as it answers
  (benchmark 4's throughput run).

The workload runs in its own process; py-spy (``pip install py-spy``) samples every thread of
it, only while the measured part runs, and this prints the functions with the most samples:
"self" (the function itself was running) and "inclusive" (it was on the stack). The raw
collapsed stacks are kept in ``--out`` (default bench/results/) for flame graph tools.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from bench.common import ROOT, BenchError, Context, unique_stem
from streamwise.settings import Settings

#: Leaves where a thread waits for work (thread pools, event loops, network threads): idle.
_IDLE = re.compile(r"^(Queue\.get|Condition\.wait|Event\.wait|EpollSelector\.select|_worker) \(")
#: Frames every stack has (entry points, thread bootstrap, this harness): not informative.
_WRAPPER = re.compile(r"\((<frozen runpy>|threading\.py|bench/)")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    """``function (path:line)`` -> ``function (package/module.py)``."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "lib/python3.11/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def summarize(raw: str, top: int = 15) -> str:
    """Self and inclusive sample shares from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if not f.startswith("thread (")]
        frames = [f for f in frames if not _WRAPPER.search(f)]
        if not frames:
            continue
        if _IDLE.match(frames[-1]):
            idle += count
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "no samples"
    lines = [f"{total} busy samples ({idle} idle ones, threads waiting for work, left out)"]
    lines += ["", "self time:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top + 10)]
    return "\n".join(lines)


@contextlib.contextmanager
def py_spy(pid: int, output: Path, rate: int = 200) -> Iterator[None]:
    """Sample ``pid`` (all its threads, idle time left out) until the block ends."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(binary).exists():
        raise BenchError("py-spy is not installed: pip install py-spy")
    proc = subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(output),
            "--threads",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # attached before the work starts
    try:
        yield
    finally:
        proc.send_signal(2)  # SIGINT: py-spy writes what it has and exits
        proc.wait(timeout=60)


def _context(workdir: Path) -> Context:
    from pydantic import SecretStr

    from bench.__main__ import default_jars

    settings = Settings.load(bus="kafka", store="redis")
    if settings.snapshot.key is None:
        snap = settings.snapshot.model_copy(update={"key": SecretStr("profile-key-0123456789")})
        settings = settings.model_copy(update={"snapshot": snap})
    console = Console(stderr=True)
    return Context(
        settings=settings,
        stem=unique_stem(),
        quick=False,
        console=console,
        progress=Progress(console=console),
        workdir=workdir,
        kafka_jars=default_jars(),
    )


def _target(name: str, seconds: float) -> None:
    """Runs in the profiled process: set up, say READY, wait for GO, do the measured work."""
    from bench import api_speed, learner_speed, producer_speed
    from bench.workload import LEARNER_SPECS, simulate
    from ingest.producer import publish
    from streamwise.adapters.kafka import KafkaBus

    with tempfile.TemporaryDirectory() as workdir:
        ctx = _context(Path(workdir))
        try:
            if name == "learner":
                spec = LEARNER_SPECS["StandardScaler|LogisticRegression"]
                n = int(seconds * 12_000)
                topics = ctx.topics("profile")
                bus = KafkaBus(ctx.kafka("profile-producer"))
                bus.ensure_topics([topics.readings])
                publish(bus, topics.readings, simulate(n))
                bus.close()
                _handshake()
                learner_speed.learner_on_kafka(ctx, spec, topics, n, "profile")
            elif name == "producer":
                readings = simulate(int(seconds * 25_000), devices=1000)
                _handshake()
                producer_speed.ours(ctx, "profile", readings, None)
            elif name == "api":
                api_speed.train(ctx, "api")
                _handshake()  # the orchestrator profiles the server, not this process
            else:
                raise ValueError(name)
        finally:
            ctx.cleanup()


def _handshake() -> None:
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    if sys.stdin.readline().strip() != "GO":
        raise SystemExit(1)


def profile(name: str, seconds: float, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    raw = out / f"profile-{name}.txt"
    if name == "api":
        return _profile_api(seconds, raw)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.profile", "--target", name, "--seconds", str(seconds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    if proc.stdout.readline().strip() != "READY":
        raise BenchError(f"the {name} workload did not start")
    with py_spy(proc.pid, raw):
        proc.stdin.write("GO\n")
        proc.stdin.flush()
        proc.wait(timeout=600)
    return summarize(raw.read_text())


def _profile_api(seconds: float, raw: Path) -> str:
    import json

    import httpx

    from bench import api_speed
    from bench.common import free_port, wait_until

    with tempfile.TemporaryDirectory() as workdir:
        ctx = _context(Path(workdir))
        try:
            api_speed.train(ctx, "api")
            body = ctx.workdir / "single.json"
            body.write_text(json.dumps(api_speed.READING))
            port = free_port()
            env = ctx.env(ctx.topics("api"), ctx.kafka("api"), ctx.redis("api"))
            with ctx.process("api-server", ["-m", "bench.apiserver", str(port)], env) as server:
                url = f"http://127.0.0.1:{port}"

                def ready() -> bool:
                    try:
                        return httpx.get(f"{url}/readyz").status_code == 200
                    except httpx.TransportError:
                        return False

                wait_until(ready, 60, "the API server")
                with py_spy(server.pid, raw):
                    api_speed.wrk(f"{url}/predict", body, round(seconds))
        finally:
            ctx.cleanup()
    return summarize(raw.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("name", nargs="?", choices=["learner", "producer", "api"])
    parser.add_argument("--seconds", type=float, default=8.0, help="about how long to sample")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.target:
        _target(args.target, args.seconds)
        return
    if args.name is None:
        parser.error("name a workload: learner, producer or api")
    sys.stdout.write(profile(args.name, args.seconds, args.out) + "\n")


if __name__ == "__main__":
    main()
