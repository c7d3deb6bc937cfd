"""A real Prometheus scrapes a real learner and API, and every key series moves.

producer (continuous) -> Kafka -> `streamwise learn` (metrics port) -> Redis -> `streamwise
serve` (/metrics) <- Prometheus (1 s scrapes) <- this test, through /api/v1/query only.
Then every PromQL expression of the Grafana dashboard runs on the same server.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import pytest

from streamwise.adapters.kafka import KafkaBus
from tests.conftest import Services
from tests.integration.helpers import cli, free_port, wait_for, wait_ready
from tests.integration.prometheus import Labels, Prometheus
from tests.test_grafana import REQUIRED, concrete, dashboard_queries, metric_names

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

BUDGET_S = 60.0  # the whole test, start to stop
JOBS = ("learner", "api")
READING = {
    "values": {"temp_c": 31.0, "humidity_pct": 40.0, "vibration_mm_s": 8.0, "power_w": 300.0}
}
BAD_RECORDS = 5  # not JSON: dead-lettered with reason "schema"

# name shown -> PromQL, evaluated at two times; each must exist, then change.
MOVING = {
    "learner events": "sum(streamwise_learner_events_total)",
    "stream records": "sum by (outcome) (streamwise_stream_records_total)",
    "learner metric": "streamwise_learner_metric",
    "snapshots written": "sum(streamwise_learner_snapshots_total)",
    "served version": "sum(streamwise_served_model_version)",
    "api predictions": "sum(streamwise_api_predictions_total)",
    "predict latency buckets": "sum(streamwise_api_predict_duration_seconds_bucket)",
    "dead letters": "sum by (reason) (streamwise_learner_dead_letters_total)",
}
# Present as soon as the processes are up and learning; dead letters only after BAD_RECORDS.
FIRST_WAVE = [name for name in MOVING if name != "dead letters"]


def _fmt(values: Mapping[Labels, float]) -> str:
    """``outcome=accepted 870; outcome=rejected 5``; many series: their count and the first."""
    parts = []
    for labels, value in sorted(values.items()):
        shown = ",".join(f"{k}={v}" for k, v in labels if k not in {"__name__", "job", "instance"})
        parts.append(f"{shown + ' ' if shown else ''}{value:.6g}")
    if len(parts) > 3:
        return f"{len(parts)} series ({parts[0]}; ...)"
    return "; ".join(parts) or "-"


def _moved(before: Mapping[Labels, float], after: Mapping[Labels, float]) -> bool:
    """A new series, or any value changed (gauges such as model metrics may go down)."""
    return bool(after) and any(after[k] != before.get(k) for k in after)


def test_prometheus_sees_learner_and_api_series_move(
    services: Services,
    tmp_path: Path,
    prometheus: Callable[[Mapping[str, str]], Prometheus],
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()

    def left() -> float:
        remaining = BUDGET_S - (time.monotonic() - started)
        assert remaining > 0, f"over the {BUDGET_S:.0f} s budget"
        return remaining

    learner_port, api_port = free_port(), free_port()
    prom = prometheus(
        {
            "learner": f"http://127.0.0.1:{learner_port}/metrics",
            "api": f"http://127.0.0.1:{api_port}/metrics",
        }
    )
    prometheus_ready_s = time.monotonic() - started
    learner_env = {
        "STREAMWISE_LEARNER__METRICS_PORT": str(learner_port),
        "STREAMWISE_SNAPSHOT__EVERY_EVENTS": "500",
        "STREAMWISE_SNAPSHOT__EVERY_SECONDS": "1",
    }
    fleet = ("produce", "--devices", "10", "--rate", "200", "--duration", "0")
    with (
        cli(services, tmp_path, "produce", *fleet),
        cli(services, tmp_path, "learn", "learn", **learner_env),
        cli(services, tmp_path, "serve", "serve", STREAMWISE_API__PORT=str(api_port)),
        httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=5.0) as api,
    ):
        wait_ready(api, timeout_s=left())
        for _ in range(3):
            assert api.post("/predict", json=READING).status_code == 200

        def both_up() -> dict[str, float] | None:
            up = {dict(k)["job"]: v for k, v in prom.values("up").items()}
            return up if up == dict.fromkeys(JOBS, 1.0) else None

        up = wait_for(both_up, left(), "up == 1 for the learner and the API", interval_s=0.25)

        def first_wave() -> dict[str, dict[Labels, float]] | None:
            values = {name: prom.values(MOVING[name]) for name in FIRST_WAVE}
            return values if all(values.values()) else None

        before = wait_for(first_wave, left(), f"every series of {FIRST_WAVE}", interval_s=0.25)
        before["dead letters"] = prom.values(MOVING["dead letters"])
        first_at = time.time()

        # Between the two looks: more predictions, and records the learner must dead-letter.
        for _ in range(5):
            assert api.post("/predict", json=READING).status_code == 200
        bus = KafkaBus(services.kafka)
        try:
            for i in range(BAD_RECORDS):
                bus.publish(services.settings.topics.readings, f"bad-{i}", b"{not json")
            bus.flush(timeout_s=10)
        finally:
            bus.close()

        def all_moved() -> dict[str, dict[Labels, float]] | None:
            values = {name: prom.values(expr) for name, expr in MOVING.items()}
            moved = all(_moved(before[name], values[name]) for name in MOVING)
            return values if moved else None

        after = wait_for(all_moved, left(), f"every series of {list(MOVING)} to move", 0.25)
        second_at = time.time()

        increase = prom.values("sum(increase(streamwise_learner_events_total[20s]))")
        assert increase and next(iter(increase.values())) > 0
        assert after["dead letters"].get((("reason", "schema"),), 0) >= BAD_RECORDS
        assert sum(after["api predictions"].values()) >= 8
        assert prom.targets_up() == dict.fromkeys(JOBS, "up")

        # The dashboard's expressions, as Grafana would send them, on the same server. Every
        # one must be valid PromQL; each required view must show data once rate() has two
        # samples of the series (the dead letters appeared one scrape ago).
        def dashboard_shows_everything() -> list[str] | None:
            empty, with_data = [], set()
            for query in dashboard_queries():
                if prom.query(concrete(query.expr)):  # raises on a PromQL error
                    with_data |= metric_names(query.expr)
                else:
                    empty.append(query.where)
            return None if set(REQUIRED.values()) - with_data else empty or ["none"]

        empty = wait_for(dashboard_shows_everything, left(), "data for every required view", 0.5)

    elapsed = time.monotonic() - started
    with capsys.disabled():
        out = sys.stdout
        out.write(
            f"\n  Prometheus {prom.url}: ready {prometheus_ready_s:.1f}s; targets up {up}; "
            f"two looks {second_at - first_at:.1f}s apart\n"
        )
        for name in MOVING:
            changed = sum(after[name].get(k) != v for k, v in before[name].items())
            note = f"  ({changed}/{len(before[name])} changed)" if len(before[name]) > 3 else ""
            out.write(f"    {name:<24} {_fmt(before[name])}  ->  {_fmt(after[name])}{note}\n")
        out.write(
            f"    {'events increase[20s]':<24} {next(iter(increase.values())):g}\n"
            f"    dashboard: {len(dashboard_queries())} queries ran; without data "
            f"yet ({', '.join(empty)})\n"
            f"  total {elapsed:.1f}s\n"
        )
    assert elapsed < BUDGET_S
