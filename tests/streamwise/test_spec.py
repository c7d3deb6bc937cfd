"""Model specs: bundled ones load, bad ones fail with messages that say what to fix."""

from __future__ import annotations

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
