"""Model specs -> River objects, through a closed allow-list. A spec never executes code."""

from __future__ import annotations

import inspect
from typing import Any

from river import base, compose, forest, linear_model, metrics, naive_bayes, neighbors, optim
from river import preprocessing, tree

from streamwise.errors import SpecError
from streamwise.spec import ModelSpec, StepSpec

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


def build_step(step: StepSpec) -> Any:
    """Instantiate one allow-listed estimator with its (possibly nested) parameters.

    Examples
    --------
    >>> build_step(StepSpec(name="SGD", params={"lr": 0.1}))
    SGD({'lr': Constant({'learning_rate': 0.1}), 'n_iterations': 0})
    """
    cls = ESTIMATORS[step.name]
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(step.params) - set(accepted))
    if unknown:
        raise SpecError(
            f"{step.name} has no parameter(s) {unknown}; it takes {sorted(accepted)}"
        )
    kwargs = {
        name: build_step(value) if isinstance(value, StepSpec) else value
        for name, value in step.params.items()
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise SpecError(f"{step.name}({kwargs}) cannot be built: {err}") from err


def build_model(spec: ModelSpec) -> base.Estimator:
    """A fresh, untrained River model for a spec: one estimator or a pipeline.

    Examples
    --------
    >>> model = build_model(ModelSpec.example())
    >>> [type(step).__name__ for step in model.steps.values()]
    ['StandardScaler', 'LogisticRegression']
    """
    steps = [build_step(step) for step in spec.pipeline]
    return steps[0] if len(steps) == 1 else compose.Pipeline(*steps)


def build_metrics(spec: ModelSpec) -> dict[str, metrics.base.Metric]:
    """Fresh cumulative metrics, in the spec's order."""
    return {name: METRICS[name]() for name in spec.metrics}
