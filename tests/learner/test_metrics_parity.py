"""Every allow-listed metric, cumulative and rolling, equals River's own evaluation exactly."""

from __future__ import annotations

import pytest
from river import evaluate, utils

from ingest import replay
from learner.models import METRICS, build_model
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.spec import METRIC_TASKS, ModelSpec
from tests.learner.test_loop import drain, make_learner, publish

CASES = {
    "binary": ("river:Phishing", [{"name": "StandardScaler"}, {"name": "LogisticRegression"}]),
    "multiclass": (
        "river:ImageSegments",
        [{"name": "StandardScaler"}, {"name": "SoftmaxRegression"}],
    ),
    "regression": (
        "river:TrumpApproval",
        [{"name": "StandardScaler"}, {"name": "LinearRegression"}],
    ),
}
WINDOW = 200


@pytest.mark.parametrize("task", sorted(CASES))
def test_every_metric_of_a_task_equals_progressive_val_score(task: str) -> None:
    dataset, pipeline = CASES[task]
    names = sorted(name for name, tasks in METRIC_TASKS.items() if task in tasks)
    spec = ModelSpec.parse(
        {
            "model_id": "m",
            "task": task,
            "target": "y",
            "pipeline": pipeline,
            "metrics": names,
            "rolling_window": WINDOW,
        }
    )
    broker = MemoryBroker(partitions=1)
    publish(MemoryBus(broker), dataset)
    learner = make_learner(broker, MemorySnapshotStore(), spec)
    drain(learner)
    values = learner.slots[0].board.values()
    assert learner.slots[0].events_learned == replay.load_dataset(dataset).n_samples
    for name in names:
        cumulative = evaluate.progressive_val_score(
            replay.load_dataset(dataset), build_model(spec), METRICS[name]()
        )
        rolling = evaluate.progressive_val_score(
            replay.load_dataset(dataset),
            build_model(spec),
            utils.Rolling(METRICS[name], window_size=WINDOW),
        )
        assert values["cumulative"][name] == _finite(cumulative.get()), (task, name)
        assert values["rolling"][name] == _finite(rolling.get()), (task, name)


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None
