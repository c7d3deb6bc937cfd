"""Model specs: bundled ones load, bad ones fail with messages that say what to fix."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from streamwise.errors import SpecError
from streamwise.spec import BUNDLED_SPECS, ModelSpec


@pytest.mark.parametrize("path", sorted(BUNDLED_SPECS.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_specs_are_valid(path: Path) -> None:
    spec = ModelSpec.from_toml(path)
    assert spec.model_id == path.stem


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pipeline": [{"name": "os.system"}]}, "'os.system' is not an allowed estimator"),
        (
            {"pipeline": [{"name": "LogisticRegression"}, {"name": "StandardScaler"}]},
            "'LogisticRegression' can only be the last step",
        ),
        ({"pipeline": [{"name": "LinearRegression"}]}, "cannot learn a binary task"),
        ({"task": "multiclass", "metrics": ["Accuracy"]}, "cannot learn a multiclass task"),
        ({"metrics": ["MAE"]}, "'MAE' does not apply to a binary task"),
        ({"metrics": ["Nope"]}, "unknown metric 'Nope'"),
        ({"features": ["fault"]}, "cannot also be a feature"),
        ({"success": {"Recall": 0.9}}, "['Recall'] must also be listed in metrics"),
        ({"model_id": "Bad Id!"}, "model_id"),
        ({"surprise": 1}, "surprise"),
        ({"pipeline": [{"name": "LogisticRegression", "params": {"x": [1]}}]}, "params"),
        (
            {"candidates": [{"name": "a", "pipeline": [{"name": "GaussianNB"}]}]},
            "either pipeline (one model) or candidates",
        ),
        ({"selection": {"metric": "LogLoss"}}, "'LogLoss' must also be listed in metrics"),
        ({"selection": {"min_events": 0}}, "min_events"),
        ({"drift": {"detector": "Oracle"}}, "detector"),
        ({"drift": {"reaction": "panic"}}, "reaction"),
        ({"holdout": 0.9}, "holdout"),
        ({"threshold": 0.5}, "threshold: required for an anomaly task, and only there"),
        ({"forecast": {"horizon": 3}}, "forecast: required for a forecast task, and only there"),
        (
            {"task": "forecast", "pipeline": [{"name": "HoltWinters"}], "metrics": ["MAE"]},
            "forecast: required for a forecast task",
        ),
        (
            {
                "task": "forecast",
                "forecast": {"horizon": 3},
                "pipeline": [{"name": "HoltWinters"}],
                "metrics": ["MAE"],
                "holdout": 0.1,
            },
            "without holdout",
        ),
        (
            {
                "task": "forecast",
                "forecast": {"horizon": 0},
                "pipeline": [{"name": "HoltWinters"}],
                "metrics": ["MAE"],
            },
            "horizon",
        ),
        (
            {"task": "anomaly", "pipeline": [{"name": "HalfSpaceTrees"}]},
            "threshold: required for an anomaly task",
        ),
        (
            {"task": "anomaly", "threshold": 0.5, "pipeline": [{"name": "LogisticRegression"}]},
            "cannot learn an anomaly task",
        ),
        (
            {
                "task": "anomaly",
                "threshold": 0.5,
                "pipeline": [{"name": "HalfSpaceTrees"}],
                "metrics": ["LogLoss"],
            },
            "'LogLoss' does not apply to an anomaly task",
        ),
    ],
)
def test_invalid_specs_say_what_is_wrong(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match="invalid model spec") as caught:
        ModelSpec.example(**overrides)
    assert message in str(caught.value)


def test_unreadable_toml_is_a_spec_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("task = [", encoding="utf-8")
    with pytest.raises(SpecError, match="cannot read model spec"):
        ModelSpec.from_toml(bad)


def test_digest_changes_with_any_setting() -> None:
    base = ModelSpec.example()
    assert base.digest() == ModelSpec.example().digest()
    assert base.digest() != ModelSpec.example(rolling_window=10).digest()


def _candidates(*pipelines: tuple[str, str]) -> dict[str, object]:
    return {
        "model_id": "m",
        "task": "binary",
        "target": "y",
        "metrics": ["Accuracy"],
        "candidates": [{"name": n, "pipeline": [{"name": step}]} for n, step in pipelines],
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_candidates(("a", "GaussianNB"), ("a", "Perceptron")), "names must be distinct"),
        (_candidates(("a", "GaussianNB"), ("b", "LinearRegression")), "candidate 'b': last step"),
        (_candidates(("Bad Name", "GaussianNB")), "candidates: 0: name"),
        (_candidates(*[(f"c{i}", "GaussianNB") for i in range(9)]), "at most 8"),
        ({**_candidates(), "candidates": []}, "candidates"),
    ],
)
def test_invalid_candidates_say_which(data: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        ModelSpec.parse(data)
    assert message in str(caught.value)


def test_pipeline_is_shorthand_for_one_candidate_called_main() -> None:
    spec = ModelSpec.example()
    assert [c.name for c in spec.candidates] == ["main"] and spec.champion == "main"
    assert spec.selection_metric == "Accuracy"
    two = ModelSpec.parse(_candidates(("nb", "GaussianNB"), ("pa", "PAClassifier")))
    assert (two.champion, two.candidate("pa").pipeline[0].name) == ("nb", "PAClassifier")
    with pytest.raises(SpecError, match="no candidate 'x'"):
        two.candidate("x")


def _readme_specs() -> list[str]:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```toml\n")[1:]]
    return [b for b in blocks if b.lstrip().startswith(("model_id", "#")) and "task =" in b]


@pytest.mark.parametrize("text", _readme_specs())
def test_specs_shown_in_the_readme_are_valid_and_build(text: str) -> None:
    from learner.models import build_detector, build_model

    spec = ModelSpec.parse(tomllib.loads(text))
    for candidate in spec.candidates:
        build_model(spec, candidate.name)
    if spec.drift is not None:
        build_detector(spec.drift)
