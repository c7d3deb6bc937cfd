"""Model specs -> River objects, through a closed allow-list. A spec never executes code."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pydantic
from river import (
    anomaly,
    bandit,
    base,
    compose,
    drift,
    forest,
    linear_model,
    metrics,
    model_selection,
    naive_bayes,
    neighbors,
    optim,
    preprocessing,
    time_series,
    tree,
)

from streamwise.errors import SpecError
from streamwise.spec import DriftSpec, ModelSpec, Param, StepSpec, TuneSpec

#: Allowed estimator name -> River class. Must list exactly ``streamwise.spec.ESTIMATOR_ROLES``.
ESTIMATORS: dict[str, type] = {
    "StandardScaler": preprocessing.StandardScaler,
    "MinMaxScaler": preprocessing.MinMaxScaler,
    "MaxAbsScaler": preprocessing.MaxAbsScaler,
    "OneHotEncoder": preprocessing.OneHotEncoder,
    "LogisticRegression": linear_model.LogisticRegression,
    "Perceptron": linear_model.Perceptron,
    "PAClassifier": linear_model.PAClassifier,
    "ALMAClassifier": linear_model.ALMAClassifier,
    "SoftmaxRegression": linear_model.SoftmaxRegression,
    "GaussianNB": naive_bayes.GaussianNB,
    "HoeffdingTreeClassifier": tree.HoeffdingTreeClassifier,
    "HoeffdingAdaptiveTreeClassifier": tree.HoeffdingAdaptiveTreeClassifier,
    "ARFClassifier": forest.ARFClassifier,
    "KNNClassifier": neighbors.KNNClassifier,
    "LinearRegression": linear_model.LinearRegression,
    "PARegressor": linear_model.PARegressor,
    "BayesianLinearRegression": linear_model.BayesianLinearRegression,
    "HoeffdingTreeRegressor": tree.HoeffdingTreeRegressor,
    "HoeffdingAdaptiveTreeRegressor": tree.HoeffdingAdaptiveTreeRegressor,
    "ARFRegressor": forest.ARFRegressor,
    "KNNRegressor": neighbors.KNNRegressor,
    "HalfSpaceTrees": anomaly.HalfSpaceTrees,
    "OneClassSVM": anomaly.OneClassSVM,
    "SNARIMAX": time_series.SNARIMAX,
    "HoltWinters": time_series.HoltWinters,
    "SGD": optim.SGD,
    "Adam": optim.Adam,
    "AdaGrad": optim.AdaGrad,
    "RMSProp": optim.RMSProp,
}

#: Allowed metric name -> River class. Must list exactly ``streamwise.spec.METRIC_TASKS``.
METRICS: dict[str, type[metrics.base.Metric]] = {
    "Accuracy": metrics.Accuracy,
    "BalancedAccuracy": metrics.BalancedAccuracy,
    "CohenKappa": metrics.CohenKappa,
    "Precision": metrics.Precision,
    "Recall": metrics.Recall,
    "F1": metrics.F1,
    "LogLoss": metrics.LogLoss,
    "ROCAUC": metrics.ROCAUC,
    "MacroF1": metrics.MacroF1,
    "MicroF1": metrics.MicroF1,
    "CrossEntropy": metrics.CrossEntropy,
    "MAE": metrics.MAE,
    "MSE": metrics.MSE,
    "RMSE": metrics.RMSE,
    "R2": metrics.R2,
    "SMAPE": metrics.SMAPE,
}


#: Drift detectors a spec may name (``[drift] detector``).
DRIFT_DETECTORS: dict[str, type] = {
    "ADWIN": drift.ADWIN,
    "PageHinkley": drift.PageHinkley,
    "KSWIN": drift.KSWIN,
}


def build_step(step: StepSpec) -> Any:
    """Instantiate one allow-listed estimator with its (possibly nested) parameters.

    Examples
    --------
    >>> build_step(StepSpec(name="SGD", params={"lr": 0.1}))
    SGD({'lr': Constant({'learning_rate': 0.1}), 'n_iterations': 0})
    """
    return _instantiate(ESTIMATORS[step.name], step.params)


def _instantiate(cls: type, params: dict[str, Param | StepSpec]) -> Any:
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise SpecError(
            f"{cls.__name__} has no parameter(s) {unknown}; it takes {sorted(accepted)}"
        )
    kwargs = {
        name: build_step(value) if isinstance(value, StepSpec) else _checked(cls, name, value)
        for name, value in params.items()
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise SpecError(f"{cls.__name__}({kwargs}) cannot be built: {err}") from err


def _checked(cls: type, name: str, value: Any) -> Any:
    """Check a plain parameter against the constructor's annotation, when it is a plain type.

    River validates few arguments itself; a wrong type would otherwise surface only when the
    first event is learned, deep in the learner.
    """
    try:
        hint = typing.get_type_hints(cls.__init__).get(name)
        adapter = pydantic.TypeAdapter(hint) if hint is not None else None
    except Exception:  # annotations naming River base classes: River checks those itself
        adapter = None
    if adapter is None:
        return value
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError as err:
        raise SpecError(
            f"{cls.__name__}: parameter {name}={value!r} must be {hint}: "
            f"{err.errors(include_url=False)[0]['msg']}"
        ) from None


def build_model(spec: ModelSpec, candidate: str | None = None) -> base.Estimator:
    """A fresh, untrained River model for one candidate of a spec (default: the first).

    Examples
    --------
    >>> model = build_model(ModelSpec.example())
    >>> [type(step).__name__ for step in model.steps.values()]
    ['StandardScaler', 'LogisticRegression']
    """
    chosen = spec.candidates[0] if candidate is None else spec.candidate(candidate)
    models = [_pipeline(variant) for variant in chosen.variants()]
    if chosen.tune is None:
        return models[0]
    return _tuned(spec, chosen.tune, models)


def _pipeline(steps: list[StepSpec]) -> base.Estimator:
    built = [build_step(step) for step in steps]
    return built[0] if len(built) == 1 else compose.Pipeline(*built)


def _tuned(spec: ModelSpec, tune: TuneSpec, models: list[base.Estimator]) -> base.Estimator:
    """River's online model selection over the grid's pipelines, on the selection metric."""
    metric = METRICS[spec.selection_metric]()
    regression = spec.task == "regression"
    if tune.method == "greedy":
        return model_selection.GreedyRegressor(models, metric)
    if tune.method == "successive-halving":
        assert tune.budget is not None
        halving = (
            model_selection.SuccessiveHalvingRegressor
            if regression
            else model_selection.SuccessiveHalvingClassifier
        )
        return halving(models, metric, budget=tune.budget)
    bandit_selector = (
        model_selection.BanditRegressor if regression else model_selection.BanditClassifier
    )
    return bandit_selector(models, metric, bandit.EpsilonGreedy(tune.epsilon, seed=tune.seed))


def build_detector(spec: DriftSpec) -> base.DriftDetector:
    """A fresh drift detector, e.g. ``ADWIN(delta=0.002)``."""
    return _instantiate(DRIFT_DETECTORS[spec.detector], dict(spec.params))  # type: ignore[no-any-return]


def build_metrics(spec: ModelSpec) -> dict[str, metrics.base.Metric]:
    """Fresh cumulative metrics, in the spec's order."""
    return {name: METRICS[name]() for name in spec.metrics}
