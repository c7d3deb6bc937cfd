"""Running benchmarks, and reporting them: Rich tables while running, Markdown and JSON after."""

from __future__ import annotations

import datetime as dt
import importlib
import math
import os
import platform
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.common import ROOT, Context, Row
from streamwise.settings import Settings

#: Benchmark name -> module with ``run(ctx) -> list[Row]``, in the order of issue 8.
BENCHMARKS: dict[str, str] = {
    "learner": "bench.learner_speed",
    "producer": "bench.producer_speed",
    "freshness": "bench.freshness",
    "api": "bench.api_speed",
    "snapshot": "bench.snapshots",
    "memory": "bench.memory",
    "growth": "bench.growth",
    "quality": "bench.quality",  # issue 4: what rejecting bad input costs the good events
}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        total_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    versions = {}
    for dist in ("river", "kafka-python", "redis", "fastapi", "uvicorn", "pydantic"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_at_start": os.getloadavg(),
        "versions": versions,
    }


def source_state() -> dict[str, Any]:
    """The commit measured and the files changed on top of it (other sessions may edit)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line]
    return {"head": git("rev-parse", "--short", "HEAD").strip(), "changed": changed}


def fmt(value: float, unit: str) -> str:
    """A readable number: 74.1k events/s, 3.20 ms, 412 MB.

    Examples
    --------
    >>> fmt(74_123.0, "events/s"), fmt(3.2, "ms"), fmt(0.4, "×"), fmt(float("nan"), "ms")
    ('74.1k events/s', '3.20 ms', '0.40 ×', 'n/a')
    """
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1e6:
        text = f"{value / 1e6:.2f}M"
    elif abs(value) >= 1e4:
        text = f"{value / 1e3:.1f}k"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}"


def _met(row: Row) -> str:
    return {None: "–", True: "yes", False: "**no**"}[row.met]


def markdown(rows: Sequence[Row]) -> str:
    """The results as one Markdown table (what docs/benchmarks.md shows)."""
    lines = [
        "| benchmark | case | baseline | ours | ratio (ours/baseline) | target | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = f"{row.ratio:.2f}×" if math.isfinite(row.ratio) else "n/a"
        arrow = "↑" if row.higher_is_better else "↓"
        case = row.case.replace("|", "\\|")  # a pipe would end the cell
        lines.append(
            f"| {row.bench} | {case} | {fmt(row.baseline, row.unit)} ({row.baseline_name}) "
            f"| {fmt(row.ours, row.unit)} | {ratio} {arrow} "
            f"| {row.target.text(row.unit) if row.target else ''} | {_met(row)} |"
        )
    return "\n".join(lines)


def rich_table(title: str, rows: Sequence[Row]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("case", "baseline", "ours", "ratio", "target", "met?"):
        if column == "case":
            table.add_column(column, overflow="fold", min_width=24)
        else:
            table.add_column(column, justify="right")
    for row in rows:
        met = {None: "", True: "[green]yes[/green]", False: "[red]no[/red]"}[row.met]
        table.add_row(
            row.case,
            f"{fmt(row.baseline, row.unit)}\n[dim]{row.baseline_name}[/dim]",
            fmt(row.ours, row.unit),
            f"{row.ratio:.2f}×" if math.isfinite(row.ratio) else "n/a",
            row.target.text(row.unit) if row.target else "",
            met,
        )
    return table


@dataclass
class SuiteResult:
    """Rows of every benchmark that ran, the tracebacks of those that failed, and context."""

    rows: list[Row]
    errors: dict[str, str]
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """What ``bench/results/latest.json`` holds."""
        return {**self.data, "rows": [r.as_dict() for r in self.rows], "errors": self.errors}


def run_suite(
    settings: Settings,
    *,
    stem: str,
    quick: bool,
    only: Sequence[str] | None = None,
    console: Console | None = None,
    plot_path: Path | None = None,
    kafka_jars: Path | None = None,
) -> SuiteResult:
    """Run the chosen benchmarks; a failing one is reported and the others still run."""
    names = [name for name in BENCHMARKS if not only or name in only]  # always in issue order
    unknown = sorted(set(only or ()) - set(BENCHMARKS))
    if unknown:
        raise ValueError(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    console = console or Console(stderr=True)
    source_at_start = source_state()
    rows: list[Row] = []
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    started = time.monotonic()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with tempfile.TemporaryDirectory(prefix=f"{stem}-") as workdir:
        ctx = Context(
            settings=settings,
            stem=stem,
            quick=quick,
            console=console,
            progress=progress,
            workdir=Path(workdir),
            plot_path=plot_path,
            kafka_jars=kafka_jars,
        )
        with progress:
            for name in names:
                t0 = time.monotonic()
                try:
                    module = importlib.import_module(BENCHMARKS[name])
                    got: list[Row] = module.run(ctx)
                    rows.extend(got)
                    progress.console.print(
                        rich_table(f"{name} ({time.monotonic() - t0:.0f} s)", got)
                    )
                except Exception:
                    errors[name] = traceback.format_exc()
                    progress.console.print(f"[red]{name} failed[/red]\n{errors[name]}")
                finally:
                    seconds[name] = round(time.monotonic() - t0, 1)
                    ctx.cleanup()
    return SuiteResult(
        rows=rows,
        errors=errors,
        data={
            "mode": "quick" if quick else "full",
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds_total": round(time.monotonic() - started, 1),
            "seconds": seconds,
            "machine": machine(),
            "source": {"at_start": source_at_start, "at_end": source_state()},
            "details": ctx.details,
        },
    )
