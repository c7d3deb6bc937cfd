"""The simulated fleet: reproducible, realistic ranges, and a fault signal a model can learn."""

from __future__ import annotations

import datetime as dt

from river import linear_model, metrics, preprocessing

from ingest.simulator import Fleet
from streamwise.features import to_x
from streamwise.spec import BUNDLED_SPECS, ModelSpec

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def stream(fleet: Fleet, ticks: int) -> list:
    return [r for t in range(ticks) for r in fleet.tick(START + dt.timedelta(seconds=60 * t))]


def test_same_seed_same_readings_and_unique_event_ids() -> None:
    a, b = stream(Fleet(5, seed=3), 50), stream(Fleet(5, seed=3), 50)
    assert a == b
    assert len({r.event_id for r in a}) == len(a) == 250
    assert stream(Fleet(5, seed=4), 50) != a


def test_values_stay_in_physical_ranges_and_faults_are_a_minority() -> None:
    readings = stream(Fleet(20, seed=1), 500)
    assert all(0.0 <= r.values["humidity_pct"] <= 100.0 for r in readings)
    assert all(-10.0 < r.values["temp_c"] < 50.0 for r in readings)
    assert all(r.values["vibration_mm_s"] >= 0.0 for r in readings)
    share = sum(r.labels["fault"] for r in readings) / len(readings)
    assert 0.02 < share < 0.25


def test_faults_are_learnable_from_the_readings() -> None:
    spec = ModelSpec.from_toml(BUNDLED_SPECS / "fault-detector.toml")
    model = preprocessing.StandardScaler() | linear_model.LogisticRegression()
    f1 = metrics.F1()
    for reading in stream(Fleet(20, seed=2), 1000):
        x = to_x(reading, spec)
        f1.update(reading.labels["fault"], model.predict_one(x))
        model.learn_one(x, reading.labels["fault"])
    assert f1.get() > 0.6  # a constant "no fault" predictor scores 0
