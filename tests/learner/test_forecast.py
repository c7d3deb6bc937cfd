"""Forecasting: candidates forecast the series h steps ahead, scored exactly as River does."""

from __future__ import annotations

import statistics

from river import datasets, evaluate

from learner.models import METRICS, build_model
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.spec import ModelSpec
from tests.learner.test_loop import drain, make_learner, publish

SPEC = ModelSpec.parse(
    {
        "model_id": "passengers",
        "task": "forecast",
        "target": "y",
        "forecast": {"horizon": 12},
        "metrics": ["MAE", "MSE", "RMSE", "R2", "SMAPE"],
        "candidates": [
            {
                "name": "snarimax",
                "pipeline": [
                    {"name": "SNARIMAX", "params": {"p": 12, "d": 1, "q": 12, "m": 12, "sd": 1}}
                ],
            },
            {
                "name": "holt-winters",
                "pipeline": [
                    {
                        "name": "HoltWinters",
                        "params": {"alpha": 0.3, "beta": 0.1, "gamma": 0.6, "seasonality": 12},
                    }
                ],
            },
        ],
        "selection": {"metric": "MAE", "min_events": 5},
    }
)


def test_each_candidate_forecast_scores_equal_rivers_evaluate_per_step() -> None:
    broker = MemoryBroker(partitions=1)
    publish(MemoryBus(broker), "river:AirlinePassengers")
    store = MemorySnapshotStore()
    learner = make_learner(broker, store, SPEC, every_events=50)
    drain(learner)
    (slot,) = learner.slots
    assert slot.events_seen == 144 and slot.events_learned == 144 - 12
    for name, candidate in slot.candidates.items():
        ours = candidate.board.values()["cumulative"]
        for metric in SPEC.metrics:
            # The same stream: the series alone (its month became the event time).
            series = [({}, y) for _, y in datasets.AirlinePassengers()]
            river = evaluate.evaluate(
                series, build_model(SPEC, name), METRICS[metric](), horizon=12
            )
            steps = river.get()
            assert [ours[f"{metric}@{k}"] for k in range(1, 13)] == steps, (name, metric)
            assert ours[metric] == statistics.fmean(steps)


def test_a_better_forecaster_takes_over_and_survives_a_restart() -> None:
    broker = MemoryBroker(partitions=1)
    publish(MemoryBus(broker), "river:AirlinePassengers")
    store = MemorySnapshotStore()
    learner = make_learner(broker, store, SPEC, every_events=40)
    drain(learner)
    (slot,) = learner.slots
    values = {n: c.board.values()["cumulative"]["MAE"] for n, c in slot.candidates.items()}
    best = min(values, key=values.get)  # type: ignore[arg-type]
    assert slot.champion == best, values
    if best != "snarimax":
        assert [e["kind"] for e in slot.lifecycle] == ["promotion"]

    # Restart half-way: the unlearned tail of the series is in the snapshot.
    half_store = MemorySnapshotStore()
    first = make_learner(broker, half_store, SPEC, every_events=10**9)
    for _ in range(2):
        first.step()  # make_learner polls 50 records a step
    first.checkpoint()
    resumed = make_learner(broker, half_store, SPEC)
    drain(resumed)
    for name, candidate in resumed.slots[0].candidates.items():
        assert candidate.board.values() == slot.candidates[name].board.values()
