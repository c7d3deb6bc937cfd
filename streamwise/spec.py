"""Model specs: the declared problem (task, target, features), the River pipeline and its metrics.

A spec is data, never code: estimators are named from a closed allow-list, parameters are plain
values. ``learner/models.py`` maps each allowed name to its River class, and a test keeps the
two lists equal.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import tomllib
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from streamwise.errors import SpecError

Task = Literal["binary", "multiclass", "regression", "anomaly", "forecast"]
Role = Literal[
    "transformer", "binary", "multiclass", "regressor", "anomaly", "forecaster", "optimizer"
]

#: Every estimator a spec may name, with its role. "multiclass" classifiers also do binary.
ESTIMATOR_ROLES: dict[str, Role] = {
    "StandardScaler": "transformer",
    "MinMaxScaler": "transformer",
    "MaxAbsScaler": "transformer",
    "OneHotEncoder": "transformer",
    "LogisticRegression": "binary",
    "Perceptron": "binary",
    "PAClassifier": "binary",
    "ALMAClassifier": "binary",
    "SoftmaxRegression": "multiclass",
    "GaussianNB": "multiclass",
    "HoeffdingTreeClassifier": "multiclass",
    "HoeffdingAdaptiveTreeClassifier": "multiclass",
    "ARFClassifier": "multiclass",
    "KNNClassifier": "multiclass",
    "LinearRegression": "regressor",
    "PARegressor": "regressor",
    "BayesianLinearRegression": "regressor",
    "HoeffdingTreeRegressor": "regressor",
    "HoeffdingAdaptiveTreeRegressor": "regressor",
    "ARFRegressor": "regressor",
    "KNNRegressor": "regressor",
    "HalfSpaceTrees": "anomaly",
    "OneClassSVM": "anomaly",
    "SNARIMAX": "forecaster",
    "HoltWinters": "forecaster",
    "SGD": "optimizer",
    "Adam": "optimizer",
    "AdaGrad": "optimizer",
    "RMSProp": "optimizer",
}

#: Metric name -> the tasks it applies to.
METRIC_TASKS: dict[str, frozenset[str]] = {
    "Accuracy": frozenset({"binary", "multiclass", "anomaly"}),
    "BalancedAccuracy": frozenset({"binary", "multiclass", "anomaly"}),
    "CohenKappa": frozenset({"binary", "multiclass", "anomaly"}),
    "Precision": frozenset({"binary", "anomaly"}),
    "Recall": frozenset({"binary", "anomaly"}),
    "F1": frozenset({"binary", "anomaly"}),
    "LogLoss": frozenset({"binary"}),
    "ROCAUC": frozenset({"binary", "anomaly"}),
    "MacroF1": frozenset({"multiclass"}),
    "MicroF1": frozenset({"multiclass"}),
    "CrossEntropy": frozenset({"multiclass"}),
    "MAE": frozenset({"regression", "forecast"}),
    "MSE": frozenset({"regression", "forecast"}),
    "RMSE": frozenset({"regression", "forecast"}),
    "R2": frozenset({"regression", "forecast"}),
    "SMAPE": frozenset({"regression", "forecast"}),
}

#: Metrics where lower is better (errors and losses); every other one is a score.
LOWER_IS_BETTER = frozenset({"MAE", "MSE", "RMSE", "SMAPE", "LogLoss", "CrossEntropy"})

_TASK_ROLES: dict[str, frozenset[str]] = {
    "binary": frozenset({"binary", "multiclass"}),
    "multiclass": frozenset({"multiclass"}),
    "regression": frozenset({"regressor"}),
    "anomaly": frozenset({"anomaly"}),
    "forecast": frozenset({"forecaster"}),
}

Param = int | float | bool | str | None


class StepSpec(BaseModel):
    """One allow-listed estimator and its keyword parameters.

    A parameter may itself be a step, for estimators that take an optimizer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Param | StepSpec] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _allowed(cls, name: str) -> str:
        if name not in ESTIMATOR_ROLES:
            raise ValueError(
                f"{name!r} is not an allowed estimator; choose one of {sorted(ESTIMATOR_ROLES)}"
            )
        return name

    @property
    def role(self) -> Role:
        return ESTIMATOR_ROLES[self.name]


class TuneSpec(BaseModel):
    """Online hyper-parameter selection over a grid, with River's ``model_selection``.

    ``grid`` maps a parameter path to the values to try: ``"LogisticRegression.l2"``, or
    ``"LogisticRegression.optimizer.lr"`` for a parameter of a step's optimizer. Every
    combination becomes one pipeline; ``bandit`` (EpsilonGreedy), ``greedy`` (regression) or
    ``successive-halving`` (needs ``budget``) picks among them as the stream goes, on the
    spec's selection metric.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["bandit", "greedy", "successive-halving"] = "bandit"
    grid: dict[str, list[Param]] = Field(min_length=1)
    epsilon: float = Field(default=0.1, gt=0, lt=1, description="bandit exploration rate")
    budget: int | None = Field(default=None, ge=1, description="successive-halving budget")
    seed: int = 42

    @field_validator("grid")
    @classmethod
    def _small_grid(cls, grid: dict[str, list[Param]]) -> dict[str, list[Param]]:
        size = 1
        for path, values in grid.items():
            if len(path.split(".")) not in (2, 3) or not values:
                raise ValueError(
                    f"grid: {path!r} must be Step.param or Step.optimizer.param with values"
                )
            size *= len(values)
        if size > 64:
            raise ValueError(f"grid: {size} combinations; at most 64 are tuned online")
        return grid


class CandidateSpec(BaseModel):
    """One candidate model: a name and its pipeline (transformers, then one final estimator)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    pipeline: list[StepSpec] = Field(min_length=1)
    tune: TuneSpec | None = None

    def variants(self) -> list[list[StepSpec]]:
        """The pipeline once per combination of the ``tune`` grid (itself if none)."""
        if self.tune is None:
            return [self.pipeline]
        paths = list(self.tune.grid)
        out = []
        for values in itertools.product(*(self.tune.grid[p] for p in paths)):
            steps = list(self.pipeline)
            for path, value in zip(paths, values, strict=True):
                steps = _override(steps, path, value)
            out.append(steps)
        return out


def _override(steps: list[StepSpec], path: str, value: Param) -> list[StepSpec]:
    step_name, *params = path.split(".")
    matches = [i for i, step in enumerate(steps) if step.name == step_name]
    if len(matches) != 1:
        raise ValueError(f"grid: {path!r} must name exactly one step of the pipeline")
    i = matches[0]
    step = steps[i]
    if len(params) == 1:
        new = step.model_copy(update={"params": {**step.params, params[0]: value}})
    else:
        inner = step.params.get(params[0])
        if not isinstance(inner, StepSpec):
            raise ValueError(f"grid: {path!r}: {step_name} has no {params[0]!r} step to tune")
        tuned = inner.model_copy(update={"params": {**inner.params, params[1]: value}})
        new = step.model_copy(update={"params": {**step.params, params[0]: tuned}})
    return [*steps[:i], new, *steps[i + 1 :]]


class SelectionSpec(BaseModel):
    """Champion/challenger: when a challenger takes over from the champion.

    A challenger is promoted when its rolling ``metric`` beats the champion's by more than
    ``margin`` on every one of ``min_events`` consecutive labelled events, and its rolling
    window is full. ``auto = false`` leaves promotion to ``streamwise models promote``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str | None = Field(default=None, description="default: first success metric")
    margin: float = Field(default=0.0, ge=0)
    min_events: int = Field(default=1000, ge=1)
    auto: bool = True


class DriftSpec(BaseModel):
    """A drift detector on each candidate's error, and what to do when the champion drifts.

    The error is 0/1 (misclassified) for classifiers and the absolute error for regressors.
    ``reset_challengers`` restarts every challenger untrained, so one that learns the new
    concept can overtake the champion.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    detector: Literal["ADWIN", "PageHinkley", "KSWIN"] = "ADWIN"
    params: dict[str, Param] = Field(default_factory=dict)
    reaction: Literal["none", "reset_challengers"] = "none"


class ForecastSpec(BaseModel):
    """Forecasting one series: the target's values, in stream order, of one device or all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon: int = Field(ge=1, le=1000, description="steps ahead forecast and scored")
    device_id: str | None = Field(default=None, description="the series' device; none: all")


class DelayedLabelsSpec(BaseModel):
    """Ground truth that arrives after the reading, on the labels topic or through /feedback.

    A reading without the target is predicted at once by every candidate; the prediction and
    its features wait for a label naming the reading's event id. The label then scores the
    stored prediction and the features are learned, as River's ``progressive_val_score`` does
    with a ``delay``. A prediction with no label after ``ttl_seconds`` (event time) expires.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ttl_seconds: float = Field(default=3600.0, gt=0, le=30 * 86_400)
    max_pending: int = Field(default=100_000, ge=1, le=10_000_000)


class WindowSpec(BaseModel):
    """A per-device rolling aggregate of one value, over the last readings or seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    on: str = Field(min_length=1)
    stats: list[Literal["mean", "std", "min", "max", "slope"]] = Field(min_length=1)
    size: int | None = Field(default=None, ge=2, le=1000, description="last N readings")
    seconds: float | None = Field(default=None, gt=0, le=7 * 86_400, description="time window")

    @model_validator(mode="after")
    def _one_window(self) -> Self:
        if (self.size is None) == (self.seconds is None):
            raise ValueError(f"window on {self.on!r}: give exactly one of size or seconds")
        return self

    @property
    def suffix(self) -> str:
        return f"{self.size}" if self.size is not None else f"{self.seconds:g}s"


class PrepareSpec(BaseModel):
    """Declared cleaning and per-device feature steps, applied before the River pipeline.

    Parameters
    ----------
    impute
        Fill a declared feature missing from a reading: ``last`` (the device's last value),
        ``mean`` (running mean over all devices) or ``none``.
    outliers
        Values further than ``outlier_z`` running standard deviations from the running mean are
        clipped to that bound (``clip``), or kept and marked with a ``<name>_outlier`` feature
        (``flag``), or left alone (``none``).
    silence_seconds
        A device whose readings are further apart than this is counted as having been silent;
        ``gap_feature`` adds the seconds since its previous reading as ``gap_s``.
    windows, lags, deltas
        Per-device features: rolling aggregates, earlier values (``temp_c_lag1``), and the
        change since the previous reading (``power_w_delta``).
    max_devices, idle_seconds
        Bounds on per-device state: the least recently heard devices are evicted first, and
        devices silent (in event time) longer than ``idle_seconds`` are forgotten.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    impute: Literal["none", "last", "mean"] = "none"
    outliers: Literal["none", "clip", "flag"] = "none"
    outlier_z: float = Field(default=4.0, gt=0)
    silence_seconds: float | None = Field(default=None, gt=0)
    gap_feature: bool = False
    windows: list[WindowSpec] = Field(default_factory=list)
    lags: dict[str, list[int]] = Field(default_factory=dict)
    deltas: list[str] = Field(default_factory=list)
    max_devices: int = Field(default=10_000, ge=1)
    idle_seconds: float = Field(default=7 * 86_400, gt=0)

    @field_validator("lags")
    @classmethod
    def _lags_positive(cls, lags: dict[str, list[int]]) -> dict[str, list[int]]:
        for name, steps in lags.items():
            if not steps or any(not 1 <= k <= 100 for k in steps):
                raise ValueError(f"lags of {name!r}: give steps between 1 and 100")
        return lags

    @functools.cached_property
    def per_device(self) -> bool:
        """Whether any step keeps per-device state."""
        return bool(
            self.impute == "last"
            or self.windows
            or self.lags
            or self.deltas
            or self.silence_seconds
            or self.gap_feature
        )

    @functools.cached_property
    def active(self) -> bool:
        return self.per_device or self.impute != "none" or self.outliers != "none"


class ModelSpec(BaseModel):
    """A declared online-learning problem and the model that learns it.

    Parameters
    ----------
    model_id
        Stable name; snapshots and API routes are keyed by it.
    task
        ``binary``, ``multiclass``, ``regression`` or ``anomaly`` (an unsupervised detector
        learns every reading; labelled ones score it).
    target
        Name of the ground truth: a key of a reading's ``labels``, or else of its ``values``.
    features
        Value names fed to the model; empty means every value except the target.
    time_features
        Add hour-of-day features (sine and cosine) computed from event time.
    candidates
        Named pipelines (transformers, then one final estimator, all from the allow-list),
        trained side by side; the first is the initial champion, which the API serves. A
        single ``pipeline`` is shorthand for one candidate named ``main``.
    metrics
        River metric names, scored by progressive validation.
    rolling_window
        Window size for the rolling version of each metric.
    success
        Thresholds per metric, e.g. ``{"F1": 0.8}`` (at least) or ``{"MAE": 5.0}`` (at most).
    selection
        Champion/challenger promotion rule (:class:`SelectionSpec`).
    drift
        Optional drift detection and reaction (:class:`DriftSpec`).
    holdout
        Share of labelled events held out: predicted and scored into the ``holdout`` metrics,
        never learned, for an estimate no training event has seen. Chosen by a hash of the
        event id, so the same events are held out on every replay.
    threshold
        Anomaly detection only: a reading whose anomaly score is at least this is flagged,
        as River's ``anomaly.ThresholdFilter`` classifies; label metrics score the flag, and
        ``ROCAUC`` the score itself.
    forecast
        Forecasting only, required: the ``horizon`` and the series (``device_id``). Scored
        as River's ``evaluate.iter_evaluate`` scores a forecaster: per step ahead
        (``MAE@1`` … ``MAE@h``) and their mean (``MAE``).
    delayed_labels
        Wait for labels that arrive later (:class:`DelayedLabelsSpec`); absent, a reading
        without its target is counted as unlabelled and nothing waits for it.

    Examples
    --------
    >>> spec = ModelSpec.example()
    >>> spec.task, [s.name for s in spec.pipeline]
    ('binary', ['StandardScaler', 'LogisticRegression'])
    >>> ModelSpec.example(metrics=["MAE"])
    Traceback (most recent call last):
    ...
    streamwise.errors.SpecError: invalid model spec: metrics: metric 'MAE' does not apply to ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    task: Task
    target: str = Field(min_length=1)
    features: list[str] = Field(default_factory=list)
    time_features: bool = False
    candidates: list[CandidateSpec] = Field(min_length=1, max_length=8)
    metrics: list[str] = Field(min_length=1)
    prepare: PrepareSpec = PrepareSpec()
    rolling_window: int = Field(default=1000, ge=1, le=1_000_000)
    success: dict[str, float] = Field(default_factory=dict)
    selection: SelectionSpec = SelectionSpec()
    drift: DriftSpec | None = None
    holdout: float = Field(default=0.0, ge=0.0, le=0.5)
    threshold: float | None = Field(default=None, description="anomaly: flag at score >= this")
    forecast: ForecastSpec | None = None
    delayed_labels: DelayedLabelsSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _pipeline_shorthand(cls, data: object) -> object:
        if isinstance(data, dict) and "pipeline" in data:
            if "candidates" in data:
                raise ValueError("give either pipeline (one model) or candidates, not both")
            pipeline = data["pipeline"]
            data = {k: v for k, v in data.items() if k != "pipeline"}
            data["candidates"] = [{"name": "main", "pipeline": pipeline}]
        return data

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        names = [c.name for c in self.candidates]
        if len(set(names)) != len(names):
            raise ValueError(f"candidates: names must be distinct, got {names}")
        for candidate in self.candidates:
            where = "pipeline" if len(self.candidates) == 1 else f"candidate {candidate.name!r}"
            if candidate.tune is not None:
                candidate.variants()  # every grid path names a step (ValueError otherwise)
                method, budget = candidate.tune.method, candidate.tune.budget
                if method == "greedy" and self.task != "regression":
                    raise ValueError(f"{where}: tune method 'greedy' is for regression only")
                if method == "successive-halving" and budget is None:
                    raise ValueError(f"{where}: tune method 'successive-halving' needs a budget")
                if self.task not in ("binary", "multiclass", "regression"):
                    raise ValueError(f"{where}: tune works for classification and regression")
            *transformers, final = candidate.pipeline
            for step in transformers:
                if step.role != "transformer":
                    raise ValueError(f"{where}: {step.name!r} can only be the last step")
            if final.role not in _TASK_ROLES[self.task]:
                raise ValueError(
                    f"{where}: last step {final.name!r} ({final.role}) cannot learn "
                    f"{_article(self.task)} task"
                )
        for name in [*self.metrics, *self.success]:
            if name not in METRIC_TASKS:
                raise ValueError(
                    f"metrics: unknown metric {name!r}; choose from {sorted(METRIC_TASKS)}"
                )
            if self.task not in METRIC_TASKS[name]:
                raise ValueError(
                    f"metrics: metric {name!r} does not apply to {_article(self.task)} task"
                )
        unscored = sorted(set(self.success) - set(self.metrics))
        if unscored:
            raise ValueError(f"success: {unscored} must also be listed in metrics")
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError("metrics: each metric may be listed once")
        if self.selection.metric is not None and self.selection.metric not in self.metrics:
            raise ValueError(
                f"selection: metric {self.selection.metric!r} must also be listed in metrics"
            )
        if self.target in self.features:
            raise ValueError(f"features: the target {self.target!r} cannot also be a feature")
        if (self.task == "anomaly") != (self.threshold is not None):
            raise ValueError("threshold: required for an anomaly task, and only there")
        if (self.task == "forecast") != (self.forecast is not None):
            raise ValueError("forecast: required for a forecast task, and only there")
        if self.task == "forecast" and (
            self.holdout
            or self.delayed_labels
            or self.drift
            or any(len(c.pipeline) > 1 for c in self.candidates)
        ):
            raise ValueError(
                "forecast: one forecaster per candidate, without holdout, delayed_labels or drift"
            )
        if self.task == "anomaly" and self.delayed_labels is not None:
            raise ValueError("delayed_labels: not supported for anomaly detection yet")
        if self.target in self.prepare.deltas:
            # Windows and lags see only earlier readings; a delta includes the current value.
            raise ValueError(f"prepare: a delta of the target {self.target!r} would leak it")
        return self

    @classmethod
    def parse(cls, data: object, source: str = "spec") -> Self:
        """Validate a decoded spec; raise :class:`SpecError` with every problem listed."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            problems = "; ".join(
                ".".join(
                    [*(str(p) for p in e["loc"]), e["msg"].removeprefix("Value error, ")]
                ).replace(".", ": ", len(e["loc"]))
                for e in err.errors(include_url=False)
            )
            raise SpecError(f"invalid model {source}: {problems}") from None

    @classmethod
    def from_toml(cls, path: Path) -> Self:
        """Read and validate a TOML spec file."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise SpecError(f"cannot read model spec {path}: {err}") from None
        return cls.parse(data, source=f"spec {path}")

    @classmethod
    def example(cls, **overrides: object) -> Self:
        """A small binary spec, for docs and tests."""
        data: dict[str, object] = {
            "model_id": "fault-detector",
            "task": "binary",
            "target": "fault",
            "pipeline": [{"name": "StandardScaler"}, {"name": "LogisticRegression"}],
            "metrics": ["Accuracy", "F1"],
        }
        data.update(overrides)
        return cls.parse(data)

    @property
    def pipeline(self) -> list[StepSpec]:
        """The initial champion's pipeline."""
        return self.candidates[0].pipeline

    @property
    def champion(self) -> str:
        """Name of the initial champion: the first candidate."""
        return self.candidates[0].name

    def candidate(self, name: str) -> CandidateSpec:
        """The candidate called ``name``; :class:`SpecError` if the spec has none."""
        for candidate in self.candidates:
            if candidate.name == name:
                return candidate
        raise SpecError(
            f"model {self.model_id!r} has no candidate {name!r}; "
            f"its candidates: {[c.name for c in self.candidates]}"
        )

    @functools.cached_property
    def selection_metric(self) -> str:
        """The metric champion and challengers are compared on."""
        return self.selection.metric or next(iter(self.success), self.metrics[0])

    @functools.cached_property
    def numeric_only(self) -> bool:
        """Whether every feature must be a number (no step of any pipeline encodes strings)."""
        return not any(step.name == "OneHotEncoder" for c in self.candidates for step in c.pipeline)

    def digest(self) -> str:
        """Stable hash of the spec; a snapshot trained from another spec is refused."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _article(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


BUNDLED_SPECS = Path(__file__).parent / "specs"
