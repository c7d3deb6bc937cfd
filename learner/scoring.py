"""Progressive-validation scoring: cumulative and rolling metrics, fed exactly as River does.

River's ``evaluate.progressive_val_score`` asks a classifier for ``predict_proba_one`` when the
metric scores probabilities and for ``predict_one`` otherwise, and skips the update when the
prediction is empty. :class:`Scoreboard` does the same for every metric of a spec at once, so
each number equals what River reports for that metric alone.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from river import base, compose, metrics, time_series, utils

from learner.models import METRICS, build_metrics
from streamwise.spec import ModelSpec

#: (label or regression value, class probabilities or None)
Prediction = tuple[Any, dict[Any, float] | None]


class Scoreboard:
    """Cumulative and rolling metrics of one model.

    Examples
    --------
    >>> board = Scoreboard(ModelSpec.example(task="regression", target="y",
    ...     pipeline=[{"name": "LinearRegression"}], metrics=["MAE"], rolling_window=2))
    >>> for y, y_pred in [(1.0, 2.0), (1.0, 1.0), (1.0, 1.5)]:
    ...     board.update(y, (y_pred, None))
    >>> board.values()
    {'cumulative': {'MAE': 0.5}, 'rolling': {'MAE': 0.25}}
    """

    def __init__(
        self,
        spec: ModelSpec,
        cumulative: dict[str, metrics.base.Metric] | None = None,
        rolling: dict[str, utils.Rolling] | None = None,
    ) -> None:
        self.cumulative = cumulative if cumulative is not None else build_metrics(spec)
        self.rolling = (
            rolling
            if rolling is not None
            else {
                name: utils.Rolling(METRICS[name], window_size=spec.rolling_window)
                for name in spec.metrics
            }
        )
        # Regression metrics have no requires_labels: they score the predicted value.
        pairs = [(m, self.rolling[name]) for name, m in self.cumulative.items()]
        self._on_labels = [(m, r) for m, r in pairs if getattr(m, "requires_labels", True)]
        self._on_proba = [(m, r) for m, r in pairs if not getattr(m, "requires_labels", True)]
        self.needs_labels = bool(self._on_labels)
        self.needs_proba = bool(self._on_proba)

    def update(self, y_true: Any, prediction: Prediction) -> None:
        """Score one prediction against its ground truth (empty predictions are skipped)."""
        label, proba = prediction
        if label is not None:
            for cumulative, rolling in self._on_labels:
                cumulative.update(y_true, label)
                rolling.update(y_true, label)
        if proba:
            for cumulative, rolling in self._on_proba:
                cumulative.update(y_true, proba)
                rolling.update(y_true, proba)

    def selection_value(self, name: str) -> float:
        """What champion and challengers are compared on: the rolling value."""
        return float(self.rolling[name].get())

    def values(self) -> dict[str, dict[str, float | None]]:
        """Current values: ``{"cumulative": {name: value}, "rolling": {name: value}}``."""
        return {
            "cumulative": {name: finite(m.get()) for name, m in self.cumulative.items()},
            "rolling": {name: finite(m.get()) for name, m in self.rolling.items()},
        }


class ForecastBoard:
    """Forecast metrics per step ahead, as River's ``evaluate.iter_evaluate`` keeps them.

    ``values()`` gives each metric per step (``MAE@1`` … ``MAE@h``) and their mean (``MAE``),
    which is what River's ``HorizonAggMetric(metric, statistics.mean)`` reports.
    """

    def __init__(self, spec: ModelSpec, cumulative: dict[str, Any] | None = None) -> None:
        self.cumulative = (
            cumulative
            if cumulative is not None
            else {name: time_series.HorizonMetric(METRICS[name]()) for name in spec.metrics}
        )
        self.rolling: dict[str, Any] = {}

    def update(self, y_true: list[Any], y_pred: list[Any]) -> None:
        for metric in self.cumulative.values():
            metric.update(y_true, y_pred)

    def selection_value(self, name: str) -> float:
        steps = self.cumulative[name].get()
        return statistics.fmean(steps) if steps else float("nan")

    def values(self) -> dict[str, dict[str, float | None]]:
        out: dict[str, float | None] = {}
        for name, metric in self.cumulative.items():
            steps = metric.get()
            out[name] = finite(statistics.fmean(steps)) if steps else None
            out.update({f"{name}@{k}": finite(v) for k, v in enumerate(steps, start=1)})
        return {"cumulative": out, "rolling": {}}


def finite(value: float) -> float | None:
    """The value, or None where it is NaN or infinite."""
    # Some metrics are undefined before enough data (NaN); JSON and Prometheus want no NaN.
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


def predictor(
    model: base.Estimator, board: Scoreboard, threshold: float | None = None
) -> Callable[[dict], Prediction]:
    """The cheapest way to get every prediction the board scores, bound once per model.

    An anomaly detector (``threshold`` given) answers with its flag, ``score >= threshold`` as
    River's ``ThresholdFilter`` classifies, and with the score as the probability of True,
    which is how River's ``ROCAUC`` reads a raw score.

    A classifier whose ``predict_one`` is River's default (the arg-max of
    ``predict_proba_one``) is asked for probabilities only and the label derived from them,
    which gives River's label exactly at half the cost.
    """
    if threshold is not None:
        score_one = model.score_one  # type: ignore[attr-defined]

        def flag(x: dict) -> Prediction:
            score = score_one(x)
            return score >= threshold, {True: score, False: 1.0 - score}

        return flag
    if not isinstance(model, base.Classifier):
        predict_value = model.predict_one
        return lambda x: (predict_value(x), None)

    final = model[-1] if isinstance(model, compose.Pipeline) else model
    default_label = type(final).predict_one is base.Classifier.predict_one
    proba_one, label_one = model.predict_proba_one, model.predict_one

    if not board.needs_proba:
        return lambda x: (label_one(x), None)
    if not board.needs_labels:
        return lambda x: (None, proba_one(x))
    if default_label:

        def from_proba(x: dict) -> Prediction:
            proba = proba_one(x)
            return (max(proba, key=proba.get) if proba else None), proba

        return from_proba
    return lambda x: (label_one(x), proba_one(x))
