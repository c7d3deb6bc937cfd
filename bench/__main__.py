"""``python -m bench [--quick] [--only NAME ...]``: run the suite, print tables, write JSON.

Kafka and Redis are found through the usual STREAMWISE_* variables (defaults: 127.0.0.1:9092
and redis://127.0.0.1:6379/0). Every topic, consumer group and Redis key the run creates is
named ``bench-<hex>...`` and deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from rich.console import Console

from bench.common import ROOT, unique_stem
from bench.suite import BENCHMARKS, markdown, run_suite
from streamwise.settings import Settings


def default_jars() -> Path | None:
    """Kafka's jars as ``scripts/services.sh`` caches them (STREAMWISE_CACHE_DIR, version)."""
    import os

    cache = Path(os.environ.get("STREAMWISE_CACHE_DIR", ROOT / ".cache"))
    version = os.environ.get("STREAMWISE_KAFKA_VERSION")
    candidates = [cache / f"kafka-{version}" / "jars"] if version else []
    candidates += sorted(cache.glob("kafka-*/jars"), reverse=True)
    return next((c for c in candidates if c.is_dir()), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short workloads (about 1-2 min)")
    parser.add_argument(
        "--only",
        nargs="+",
        action="extend",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only these benchmarks: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "bench" / "results" / "latest.json",
        help="results JSON (default bench/results/latest.json)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="growth PNG (default docs/benchmarks-growth.png, bench/results/ with --quick)",
    )
    parser.add_argument("--kafka-jars", type=Path, default=None, help="folder of Kafka's jars")
    args = parser.parse_args(argv)

    console = Console(stderr=True)
    settings = Settings.load(bus="kafka", store="redis")
    if settings.snapshot.key is None:
        # The suite signs its own snapshots; any key works as long as every process shares it.
        import secrets

        from pydantic import SecretStr

        key = SecretStr(secrets.token_urlsafe(32))
        snap = settings.snapshot.model_copy(update={"key": key})
        settings = settings.model_copy(update={"snapshot": snap})
    plot = args.plot or (
        ROOT / "bench" / "results" / "benchmarks-growth.png"
        if args.quick
        else ROOT / "docs" / "benchmarks-growth.png"
    )
    result = run_suite(
        settings,
        stem=unique_stem(),
        quick=args.quick,
        only=args.only,
        console=console,
        plot_path=plot,
        kafka_jars=args.kafka_jars or default_jars(),
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result.as_json(), indent=2, default=str) + "\n")
    out = Console(file=sys.stdout, soft_wrap=True, highlight=False)
    out.print(markdown(result.rows), markup=False)
    console.print(
        f"results: {args.output} ({result.data['seconds_total']:.0f} s)"
        + (f"; [red]failed: {', '.join(result.errors)}[/red]" if result.errors else "")
    )
    bad = [r for r in result.rows if not math.isfinite(r.ratio)]
    return 1 if result.errors or bad else 0


if __name__ == "__main__":
    sys.exit(main())
