"""Benchmark 7: how throughput and memory change with the number of devices and of models.

Each configuration runs in a fresh process (:mod:`bench.worker`): the learner as ``streamwise
learn`` builds it, Redis store, default snapshot policy, over readings generated on the fly.
Throughput leaves the generation time out. "Learner RSS" is the growth of the process's RSS
from just after the first poll (interpreter, libraries, the simulated fleet and one tick of
readings already there) to the end, so the fleet itself does not count.

- devices: 100 → 100k with one model (fault-detector), the same number of readings each, more
  than the dedup window holds, so every device and the full window are in memory;
- models: 1 → 5 (fault-detector, power-regressor, a Hoeffding tree classifier, Gaussian naive
  Bayes, a Hoeffding tree regressor) with 1000 devices.

Baseline of each sweep: its smallest configuration. The table and a PNG plot go to the docs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import Context, Row
from bench.worker import launch

NAME = "growth"
MB = 2**20


def configs(ctx: Context) -> list[tuple[str, int, int, int]]:
    """(sweep, devices, models, readings) for each run."""
    window = ctx.settings.quality.dedup_window
    devices = ctx.pick([100, 10_000], [100, 1_000, 10_000, 100_000])
    models = ctx.pick([1, 5], [1, 2, 3, 4, 5])
    by_devices = ctx.pick(20_000, window + 20_000)
    by_models = ctx.pick(4_000, 30_000)
    return [("devices", d, 1, by_devices) for d in devices] + [
        ("models", 1_000, m, by_models) for m in models
    ]


def markdown_table(runs: list[dict[str, Any]]) -> str:
    """The per-configuration table of docs/benchmarks.md."""
    lines = [
        "| sweep | devices | models | readings | events/s | learner RSS (MB) | process RSS (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['sweep']} | {r['devices']:,} | {len(r['models'])} | {r['events']:,} "
            f"| {r['events_per_s']:,.0f} | {(r['rss_final'] - r['rss_base']) / MB:.1f} "
            f"| {r['rss_final'] / MB:.0f} |"
        )
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """Throughput and learner RSS against devices and against models, as one PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "the growth plot needs matplotlib: pip install -e '.[bench]' (or pip install "
            "matplotlib), or run with --only to skip the growth benchmark"
        ) from err
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    for col, sweep in enumerate(("devices", "models")):
        rows = [r for r in runs if r["sweep"] == sweep]
        xs = [r["devices"] if sweep == "devices" else len(r["models"]) for r in rows]
        top, bottom = axes[0][col], axes[1][col]
        top.plot(xs, [r["events_per_s"] for r in rows], marker="o")
        bottom.plot(
            xs,
            [(r["rss_final"] - r["rss_base"]) / MB for r in rows],
            marker="o",
            label="learner RSS growth",
        )
        bottom.plot(
            xs, [r["rss_final"] / MB for r in rows], marker="s", linestyle="--", label="process RSS"
        )
        if sweep == "devices":
            top.set_xscale("log")
            bottom.set_xscale("log")
        else:
            top.set_xticks(xs)
            bottom.set_xticks(xs)
        fixed = "1 model" if sweep == "devices" else "1,000 devices"
        top.set_title(f"throughput vs {sweep} ({fixed})")
        top.set_ylabel("readings/s (generation excluded)")
        bottom.set_title(f"memory vs {sweep} ({fixed})")
        bottom.set_ylabel("MB")
        bottom.set_xlabel(sweep)
        bottom.legend()
        top.set_ylim(bottom=0)
        bottom.set_ylim(bottom=0)
    fig.suptitle("streamwise learner growth (bench/growth.py)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(ctx: Context) -> list[Row]:
    plan = configs(ctx)
    task = ctx.progress.add_task("growth: devices and models", total=len(plan))
    runs = []
    for i, (sweep, devices, models, events) in enumerate(plan):
        config = {
            "devices": devices,
            "models": models,
            "events": events,
            "seconds": 300.0,
            "sample_every": max(events // 10, 1000),
            "warmup_events": events,
        }
        name = f"growth-{i}"
        result = launch(config, ctx.env(ctx.topics(name), ctx.kafka(name), ctx.redis(name)))
        result.pop("samples")
        runs.append({"sweep": sweep, **result})
        ctx.progress.advance(task)
    ctx.details[NAME] = {"runs": runs, "markdown": markdown_table(runs)}
    if ctx.plot_path is not None:
        plot(runs, ctx.plot_path)
        ctx.details[NAME]["plot"] = str(ctx.plot_path)
    rows = []
    for sweep in ("devices", "models"):
        sub = [r for r in runs if r["sweep"] == sweep]
        small, large = sub[0], sub[-1]
        if sweep == "devices":
            what = f"{large['devices']:,} vs {small['devices']:,} devices (1 model)"
            base_name = f"{small['devices']:,} devices"
        else:
            what = f"{len(large['models'])} vs {len(small['models'])} model(s) (1,000 devices)"
            base_name = f"{len(small['models'])} model"
        rows.append(
            Row(
                NAME,
                f"throughput, {what}",
                "events/s",
                base_name,
                small["events_per_s"],
                large["events_per_s"],
            )
        )
        rows.append(
            Row(
                NAME,
                f"learner RSS growth, {what}",
                "MB",
                base_name,
                (small["rss_final"] - small["rss_base"]) / MB,
                (large["rss_final"] - large["rss_base"]) / MB,
                higher_is_better=False,
            )
        )
    return rows
