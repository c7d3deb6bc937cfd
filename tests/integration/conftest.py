"""Integration fixtures: a real Prometheus, started per test and always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from itertools import count
from pathlib import Path

import pytest

from tests.integration.prometheus import Prometheus, prometheus_binary, run_prometheus


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[Mapping[str, str]], Prometheus]]:
    """``start(targets)`` runs a Prometheus scraping ``{job: metrics URL}`` every second.

    Checked before the test body runs: without the binary the test fails under CI=true and is
    skipped elsewhere. Every server started is stopped at teardown, pass or fail.
    """
    prometheus_binary()
    numbers = count()
    with ExitStack() as stack:

        def start(targets: Mapping[str, str]) -> Prometheus:
            work_dir = tmp_path / f"prometheus-{next(numbers)}"
            return stack.enter_context(run_prometheus(targets, work_dir))

        yield start
