"""Benchmark 6: the learner's resident memory over a long stream from many devices.

One fresh process (:mod:`bench.worker`) runs the bundled specs with the Redis store and the
default snapshot policy over readings generated on the fly by 10,000 simulated devices (the
generator keeps nothing, so RSS is the learner's, plus the generator's fixed fleet and tick).
RSS is sampled as the stream goes. Baseline: RSS once warmed up, after the dedup window has
filled (every model, window and per-device table at its full size); ours: RSS at the end.
The full mode stops at 10M readings or its time budget, whichever comes first, and reports the
count it reached.
"""

from __future__ import annotations

from bench.common import Context, Row, Target
from bench.worker import launch

NAME = "memory"
DEVICES = 10_000
MB = 2**20


def run(ctx: Context) -> list[Row]:
    window = ctx.settings.quality.dedup_window
    config = {
        "devices": DEVICES,
        "models": 0,
        "events": ctx.pick(40_000, 10_000_000),
        "seconds": ctx.pick(60.0, 200.0),
        "sample_every": ctx.pick(5_000, 50_000),
        # Warm once the window is full; quick mode stops well before, and says so.
        "warmup_events": ctx.pick(15_000, window + 100_000),
    }
    task = ctx.progress.add_task(f"memory, {DEVICES} devices", total=config["events"])
    env = ctx.env(ctx.topics(NAME), ctx.kafka(NAME), ctx.redis(NAME))
    result = launch(config, env, lambda s: ctx.progress.update(task, completed=s["events"]))
    ctx.progress.update(task, total=result["events"], completed=result["events"])
    ctx.details[NAME] = result
    events = result["events"]
    warm = result["rss_warmup"] or result["rss_base"]
    note = (
        f"{events:,} readings ({'time budget reached' if events < config['events'] else 'all'})"
        f" from {DEVICES:,} devices at {result['events_per_s']:,.0f}/s (generation excluded); "
        f"warm-up at {config['warmup_events']:,} readings; max after warm-up "
        f"{result['rss_max_after_warmup'] / MB:.0f} MB; start {result['rss_start'] / MB:.0f} MB"
    )
    return [
        Row(
            NAME,
            f"RSS after {events:,} readings vs after warm-up",
            "MB",
            "RSS after warm-up",
            warm / MB,
            result["rss_final"] / MB,
            higher_is_better=False,
            target=Target("ratio_at_most", 1.10),
            note=note,
        ),
    ]
