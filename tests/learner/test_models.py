"""Every allow-listed estimator goes through build -> predict -> learn -> signed snapshot."""

from __future__ import annotations

import pytest

from ingest import replay
from learner.loop import ModelSlot
from learner.models import ESTIMATORS, METRICS, build_model
from streamwise import snapshot
from streamwise.errors import SpecError
from streamwise.spec import ESTIMATOR_ROLES, LOWER_IS_BETTER, METRIC_TASKS, ModelSpec

KEY = b"m" * 32


def test_allow_lists_match_the_spec_vocabulary() -> None:
    assert set(ESTIMATORS) == set(ESTIMATOR_ROLES)
    assert set(METRICS) == set(METRIC_TASKS)
    assert LOWER_IS_BETTER == {n for n, m in METRICS.items() if not m().bigger_is_better}


def _spec_for(name: str) -> tuple[ModelSpec, str]:
    role = ESTIMATOR_ROLES[name]
    if role in {"binary", "multiclass"}:
        return ModelSpec.example(
            model_id="m",
            target="y",
            pipeline=[{"name": "StandardScaler"}, {"name": name}],
            metrics=["Accuracy"],
        ), "river:Phishing"
    if role == "regressor":
        return ModelSpec.example(
            model_id="m",
            task="regression",
            target="y",
            pipeline=[{"name": "StandardScaler"}, {"name": name}],
            metrics=["MAE"],
        ), "river:TrumpApproval"
    if role == "anomaly":
        return ModelSpec.example(
            model_id="m",
            task="anomaly",
            target="y",
            pipeline=[{"name": "MinMaxScaler"}, {"name": name}],
            metrics=["ROCAUC", "F1"],
            threshold=0.7,
        ), "river:Phishing"
    if role == "forecaster":
        params = {"alpha": 0.3, "beta": 0.1} if name == "HoltWinters" else {"p": 2, "d": 1, "q": 1}
        return ModelSpec.example(
            model_id="m",
            task="forecast",
            target="y",
            pipeline=[{"name": name, "params": params}],
            metrics=["MAE"],
            forecast={"horizon": 3},
        ), "river:AirlinePassengers"
    if role == "optimizer":
        return ModelSpec.example(
            model_id="m",
            target="y",
            pipeline=[{"name": "LogisticRegression", "params": {"optimizer": {"name": name}}}],
        ), "river:Phishing"
    return ModelSpec.example(
        model_id="m",
        target="y",
        pipeline=[{"name": name}, {"name": "GaussianNB"}],
        metrics=["Accuracy"],
    ), "river:Phishing"


@pytest.mark.parametrize("name", sorted(ESTIMATOR_ROLES))
def test_estimator_learns_and_survives_a_snapshot(name: str) -> None:
    spec, dataset = _spec_for(name)
    slot = ModelSlot.fresh(spec)
    readings = list(replay.readings(dataset, limit=60))
    for reading in readings[:50]:
        slot.observe(reading)
    restored = snapshot.decode(snapshot.encode(slot.to_snapshot(1, 0.0), KEY), KEY)
    again = ModelSlot.restore(spec, restored)
    probe = readings[55]
    from streamwise.features import to_x

    x = to_x(probe, spec)
    if spec.task == "anomaly":
        assert again.model.score_one(x) == slot.model.score_one(x)
    elif spec.task == "forecast":
        assert again.model.forecast(3) == slot.model.forecast(3)
        assert again.series == slot.series and len(slot.series or ()) == 3
    else:
        assert again.model.predict_one(x) == slot.model.predict_one(x)
    assert again.board.values() == slot.board.values()
    assert slot.events_learned == (47 if spec.task == "forecast" else 50)


def test_unknown_parameter_is_a_clear_spec_error() -> None:
    spec = ModelSpec.example(pipeline=[{"name": "LogisticRegression", "params": {"lr": 0.1}}])
    with pytest.raises(SpecError, match=r"LogisticRegression has no parameter\(s\) \['lr'\]"):
        build_model(spec)


def test_bad_parameter_value_is_a_clear_spec_error() -> None:
    spec = ModelSpec.example(
        pipeline=[{"name": "HoeffdingTreeClassifier", "params": {"grace_period": "soon"}}]
    )
    with pytest.raises(SpecError, match="HoeffdingTreeClassifier: parameter grace_period='soon'"):
        build_model(spec)
