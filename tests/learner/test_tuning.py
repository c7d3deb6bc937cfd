"""Online hyper-parameter selection: a candidate tunes over a grid with River's model_selection."""

from __future__ import annotations

import pytest
from river import evaluate

from ingest import replay
from learner.models import METRICS, build_model
from learner.slot import ModelSlot
from streamwise import snapshot
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.errors import SpecError
from streamwise.spec import ModelSpec
from tests.learner.test_loop import KEY, drain, make_learner, publish

LOGREG = [
    {"name": "StandardScaler"},
    {"name": "LogisticRegression", "params": {"optimizer": {"name": "SGD"}}},
]


def tuned_spec(task: str = "binary", **tune: object) -> ModelSpec:
    regression = task == "regression"
    final = "LinearRegression" if regression else "LogisticRegression"
    return ModelSpec.parse(
        {
            "model_id": "tuned",
            "task": task,
            "target": "y",
            "metrics": ["MAE"] if regression else ["Accuracy", "LogLoss"],
            "candidates": [
                {
                    "name": "tuned",
                    "pipeline": [
                        {"name": "StandardScaler"},
                        {"name": final, "params": {"optimizer": {"name": "SGD"}}},
                    ],
                    "tune": {"grid": {f"{final}.optimizer.lr": [0.005, 0.05, 0.5]}, **tune},
                }
            ],
        }
    )


@pytest.mark.parametrize(
    ("spec", "dataset"),
    [
        (tuned_spec(), "river:Phishing"),
        (tuned_spec(method="successive-halving", budget=300), "river:Phishing"),
        (tuned_spec("regression", method="greedy"), "river:TrumpApproval"),
        (tuned_spec("regression"), "river:TrumpApproval"),
    ],
    ids=["bandit", "successive-halving", "greedy", "bandit-regression"],
)
def test_a_tuned_candidate_scores_exactly_like_river(spec: ModelSpec, dataset: str) -> None:
    broker = MemoryBroker(partitions=1)
    publish(MemoryBus(broker), dataset)
    learner = make_learner(broker, MemorySnapshotStore(), spec)
    drain(learner)
    ours = learner.slots[0].board.values()["cumulative"]
    for name in spec.metrics:
        river = evaluate.progressive_val_score(
            replay.load_dataset(dataset), build_model(spec), METRICS[name]()
        )
        assert ours[name] == river.get(), name


def test_a_tuned_model_survives_a_signed_snapshot() -> None:
    spec = tuned_spec()
    slot = ModelSlot.fresh(spec)
    readings = list(replay.readings("river:Phishing", limit=120))
    for reading in readings[:100]:
        slot.observe(reading)
    restored = ModelSlot.restore(
        spec, snapshot.decode(snapshot.encode(slot.to_snapshot(1, 0.0), KEY), KEY)
    )
    x = dict(readings[110].values)
    assert restored.model.predict_proba_one(x) == slot.model.predict_proba_one(x)


@pytest.mark.parametrize(
    ("tune", "message"),
    [
        ({"grid": {"Nope.lr": [1]}}, "must name exactly one step"),
        ({"grid": {"StandardScaler.with_std.x": [1]}}, "has no 'with_std' step to tune"),
        ({"grid": {"LogisticRegression.l2": []}}, "Step.param"),
        ({"grid": {"a.b": list(range(9)), "c.d": list(range(9))}}, "at most 64"),
        ({"grid": {"LogisticRegression.l2": [0.1]}, "method": "greedy"}, "regression only"),
        (
            {"grid": {"LogisticRegression.l2": [0.1]}, "method": "successive-halving"},
            "needs a budget",
        ),
    ],
)
def test_bad_grids_are_refused_with_the_reason(tune: dict, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        ModelSpec.parse(
            {
                "model_id": "t",
                "task": "binary",
                "target": "y",
                "metrics": ["Accuracy"],
                "candidates": [{"name": "c", "pipeline": LOGREG, "tune": tune}],
            }
        )
    assert message in str(caught.value)
