"""Cleaning and per-device features: correct windows, no leakage, bounded state, exact restore."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamwise.events import Reading
from streamwise.prepare import Preparer
from streamwise.spec import ModelSpec

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def spec_with(**prepare: object) -> ModelSpec:
    return ModelSpec.example(features=["v"], prepare=prepare)


def reading(seconds: float, value: float | None, device: str = "d1") -> Reading:
    values = {"v": value} if value is not None else {"other": 0.0}
    return Reading.example(ts=T0 + dt.timedelta(seconds=seconds), device_id=device, values=values)


def feed(prep: Preparer, points: list[tuple[float, float]]) -> None:
    for t, v in points:
        prep.commit(prep.prepare(reading(t, v)))


steps = st.lists(
    st.tuples(st.floats(0.5, 120.0), st.floats(-1e3, 1e3, allow_nan=False)),
    min_size=1,
    max_size=40,
)


@given(steps, st.integers(2, 8))
def test_count_windows_and_lags_match_a_brute_force_over_earlier_readings(
    deltas: list[tuple[float, float]], size: int
) -> None:
    prep = Preparer(
        spec_with(
            windows=[{"on": "v", "stats": ["mean", "min", "max"], "size": size}], lags={"v": [1, 2]}
        )
    )
    t, points = 0.0, []
    for gap, value in deltas:
        t += gap
        points.append((t, value))
    feed(prep, points)
    x = prep.prepare(reading(t + 1, 0.0)).x
    window = [v for _, v in points[-size:]]
    assert x["v_mean_" + str(size)] == pytest.approx(statistics.fmean(window), abs=1e-9)
    assert (x[f"v_min_{size}"], x[f"v_max_{size}"]) == (min(window), max(window))
    assert x["v_lag1"] == points[-1][1]
    assert x.get("v_lag2") == (points[-2][1] if len(points) > 1 else None)


@given(steps)
def test_time_windows_cover_exactly_the_last_seconds(deltas: list[tuple[float, float]]) -> None:
    prep = Preparer(spec_with(windows=[{"on": "v", "stats": ["mean", "std"], "seconds": 300}]))
    t, points = 0.0, []
    for gap, value in deltas:
        t += gap
        points.append((t, value))
    feed(prep, points)
    now = t + 10
    covered = [v for ts, v in points if ts >= now - 300]
    x = prep.prepare(reading(now, 0.0)).x
    if not covered:
        assert "v_mean_300s" not in x
    else:
        assert x["v_mean_300s"] == pytest.approx(statistics.fmean(covered), abs=1e-9)
        expected_std = statistics.stdev(covered) if len(covered) > 1 else 0.0
        assert x["v_std_300s"] == pytest.approx(expected_std, rel=1e-6, abs=1e-6)


def test_slope_is_per_second() -> None:
    prep = Preparer(spec_with(windows=[{"on": "v", "stats": ["slope"], "size": 5}]))
    feed(prep, [(10.0 * i, 3.0 * i) for i in range(5)])
    assert prep.prepare(reading(60, 0.0)).x["v_slope_5"] == pytest.approx(0.3)


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_features_of_a_reading_never_contain_its_own_value(value: float) -> None:
    prep = Preparer(
        spec_with(windows=[{"on": "v", "stats": ["mean", "max"], "size": 3}], lags={"v": [1]})
    )
    feed(prep, [(1.0, 1.0), (2.0, 2.0)])
    x = prep.prepare(reading(3.0, value)).x
    assert {k: v for k, v in x.items() if k != "v"} == {
        "v_mean_3": 1.5,
        "v_max_3": 2.0,
        "v_lag1": 2.0,
    }


def test_imputation_by_device_and_by_running_mean() -> None:
    last = Preparer(spec_with(impute="last"))
    feed(last, [(1.0, 5.0)])
    assert last.prepare(reading(2.0, None)).x == {"v": 5.0}
    assert last.prepare(reading(2.0, None, device="d2")).x == {}
    mean = Preparer(spec_with(impute="mean"))
    feed(mean, [(1.0, 4.0), (2.0, 8.0)])
    prepared = mean.prepare(reading(3.0, None, device="d9"))
    assert prepared.x == {"v": 6.0} and prepared.events == {"imputed": 1}


@pytest.mark.parametrize("mode", ["clip", "flag"])
def test_outliers_are_clipped_or_flagged_after_warm_up(mode: str) -> None:
    prep = Preparer(spec_with(outliers=mode, outlier_z=3.0))
    feed(prep, [(float(i), 10.0 + (i % 2)) for i in range(40)])
    prepared = prep.prepare(reading(50.0, 1000.0))
    if mode == "clip":
        assert 10.0 < prepared.x["v"] < 13.0 and prepared.events == {"clipped": 1}
    else:
        assert prepared.x == {"v": 1000.0, "v_outlier": 1.0}
    assert prep.prepare(reading(50.0, 10.5)).events == {}


def test_per_device_state_is_bounded() -> None:
    prep = Preparer(spec_with(lags={"v": [1]}, max_devices=3, idle_seconds=100))
    for i in range(10):
        prep.commit(prep.prepare(reading(float(i), 1.0, device=f"d{i}")))
    assert list(prep.devices) == ["d7", "d8", "d9"]
    prep.commit(prep.prepare(reading(500.0, 1.0, device="d7")))  # the others went idle
    assert list(prep.devices) == ["d7"]
    assert prep.counts["evicted"] == 9


def test_silence_is_counted_and_gap_is_a_feature() -> None:
    prep = Preparer(spec_with(silence_seconds=60, gap_feature=True))
    feed(prep, [(0.0, 1.0), (30.0, 1.0), (300.0, 1.0)])
    assert prep.counts == {"silence": 1}
    assert prep.prepare(reading(310.0, 1.0)).x["gap_s"] == 10.0
    prep.commit(prep.prepare(reading(400.0, 1.0, device="d2")))
    assert prep.silent_devices() == {"d1": T0.timestamp() + 300.0}


def test_state_round_trips_exactly() -> None:
    spec = spec_with(
        impute="last",
        outliers="flag",
        windows=[{"on": "v", "stats": ["mean", "std", "slope"], "seconds": 100}],
        lags={"v": [1, 3]},
        deltas=["v"],
    )
    prep = Preparer(spec)
    feed(prep, [(float(i * 7), float((i * 37) % 11)) for i in range(60)])
    copy = Preparer(spec, prep.state())
    probe = reading(500.0, 4.0)
    assert copy.prepare(probe) == prep.prepare(probe)
    assert copy.state() == prep.state()


def test_no_prepare_section_means_the_plain_features() -> None:
    prep = Preparer(ModelSpec.example())
    r = Reading.example()
    assert prep.prepare(r).x == {"temp_c": 21.5, "humidity_pct": 40.0}
