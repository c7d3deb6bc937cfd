"""The benchmark suite runs: each benchmark's quick mode gives finite ratios. Never a timing.

Needs the real Kafka and Redis (and Java with Kafka's jars for the producer benchmark, wrk for
the API one). Timings on a shared machine say nothing about correctness, so none is asserted.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from rich.console import Console

from bench.__main__ import default_jars
from bench.suite import BENCHMARKS, markdown, run_suite
from tests.conftest import Services

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_quick_benchmark_reports_finite_ratios(
    name: str, services: Services, tmp_path: Path
) -> None:
    console = Console(file=(tmp_path / "console.txt").open("w"), width=120)
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    result = run_suite(
        services.settings,
        stem=services.settings.redis.key_prefix,
        quick=True,
        only=[name],
        console=console,
        plot_path=tmp_path / "growth.png" if has_matplotlib else None,
        kafka_jars=default_jars(),
    )
    assert not result.errors, result.errors.get(name)
    assert result.rows, f"{name} returned no rows"
    for row in result.rows:
        assert row.bench == name
        assert math.isfinite(row.baseline) and math.isfinite(row.ours), row
        assert math.isfinite(row.ratio), row
    table = markdown(result.rows)
    assert table.count("\n") == len(result.rows) + 1  # header, rule, one line per row
