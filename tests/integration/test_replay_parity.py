"""A River dataset replayed through real Kafka scores exactly as River's own evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
from river import evaluate

from ingest import replay
from learner.models import METRICS, build_model
from streamwise.spec import ModelSpec
from tests.conftest import Services
from tests.integration.helpers import cli, learn_all

pytestmark = pytest.mark.integration

CASES = [
    pytest.param(
        "river:Phishing",
        ModelSpec.example(
            model_id="phishing", target="y", metrics=["Accuracy", "F1", "LogLoss", "ROCAUC"]
        ),
        id="phishing-logreg",
    ),
    pytest.param(
        "river:TrumpApproval",
        ModelSpec.example(
            model_id="trump",
            task="regression",
            target="y",
            pipeline=[{"name": "StandardScaler"}, {"name": "LinearRegression"}],
            metrics=["MAE", "RMSE", "R2"],
        ),
        id="trump-linreg",
    ),
]


@pytest.mark.parametrize(("dataset", "spec"), CASES)
def test_replayed_dataset_scores_exactly_like_river(
    services: Services, tmp_path: Path, dataset: str, spec: ModelSpec
) -> None:
    with cli(services, tmp_path, "replay", "replay", "--dataset", dataset) as proc:
        assert proc.wait(timeout=120) == 0, (tmp_path / "replay.log").read_text()
    n_samples = replay.load_dataset(dataset).n_samples

    learner = learn_all(services, [spec], n_samples, every_events=500, timeout_s=60)
    (slot,) = learner.slots
    assert slot.events_learned == n_samples

    ours = slot.board.values()["cumulative"]
    for name in spec.metrics:
        theirs = evaluate.progressive_val_score(
            replay.load_dataset(dataset), build_model(spec), METRICS[name]()
        )
        assert ours[name] == theirs.get(), f"{name}: streamwise {ours[name]} != River {theirs}"
