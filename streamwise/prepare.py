"""Declared cleaning and per-device features, computed the same way by the learner and the API.

For each reading, :meth:`Preparer.prepare` computes the model's features from state that holds
only *earlier* readings; the learner predicts, scores and learns on exactly those features and
only then :meth:`Preparer.commit`\\ s the reading into the state. So prediction-time and
training-time features are identical, and no feature ever contains the value being predicted
(River's own stateful transformers learn before they transform, which would leak the current
value into lags). The state is plain data and travels in the model's snapshot; the API builds a
Preparer from it to answer /predict with the same features.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from streamwise.events import Reading, Value
from streamwise.features import to_x
from streamwise.spec import ModelSpec, WindowSpec

#: Readings kept per device and value for time windows: the memory bound, whatever the period.
TIME_WINDOW_POINTS = 2000
_MIN_FOR_OUTLIERS = 30  # observations before a running mean/std is trusted to judge outliers


@dataclass(slots=True)
class Prepared:
    """The features of one reading, and what :meth:`Preparer.commit` records of it."""

    x: dict[str, Value]
    device: str
    ts: float
    cleaned: dict[str, float]
    events: dict[str, int] = field(default_factory=dict)


class _Running:
    """Welford's running mean and variance (the algorithm of ``river.stats.Var``)."""

    __slots__ = ("n", "mean", "m2")

    def __init__(self, n: int = 0, mean: float = 0.0, m2: float = 0.0) -> None:
        self.n, self.mean, self.m2 = n, mean, m2

    def update(self, value: float) -> None:
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0


def _window_stats(window: WindowSpec, points: list[tuple[float, float]]) -> dict[str, float]:
    values = [v for _, v in points]
    n = len(values)
    mean = sum(values) / n
    out: dict[str, float] = {}
    for stat in window.stats:
        if stat == "mean":
            out[stat] = mean
        elif stat == "std":
            out[stat] = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
        elif stat == "min":
            out[stat] = min(values)
        elif stat == "max":
            out[stat] = max(values)
        else:  # slope per second, by least squares on event time
            t0 = points[0][0]
            ts = [t - t0 for t, _ in points]
            t_mean = sum(ts) / n
            var_t = sum((t - t_mean) ** 2 for t in ts)
            cov = sum((t - t_mean) * (v - mean) for t, v in zip(ts, values, strict=True))
            out[stat] = cov / var_t if var_t > 0 else 0.0
    return out


class Preparer:
    """Cleaning and per-device features of one model spec, with their state.

    Examples
    --------
    >>> import datetime as dt
    >>> spec = ModelSpec.example(features=["temp_c"], prepare={
    ...     "impute": "last", "lags": {"temp_c": [1]}, "deltas": ["temp_c"],
    ...     "windows": [{"on": "temp_c", "stats": ["mean", "max"], "size": 3}]})
    >>> prep = Preparer(spec)
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> for minute, temp in enumerate([20.0, 22.0, 24.0]):
    ...     p = prep.prepare(Reading.example(ts=t0 + dt.timedelta(minutes=minute),
    ...                                      values={"temp_c": temp}))
    ...     prep.commit(p)
    >>> p = prep.prepare(Reading.example(ts=t0 + dt.timedelta(minutes=3), values={"other": 1.0}))
    >>> p.x   # temp_c is missing: imputed with the device's last value
    {'temp_c': 24.0, 'temp_c_mean_3': 22.0, 'temp_c_max_3': 24.0, 'temp_c_lag1': 24.0, \
'temp_c_delta': 0.0}
    >>> p.events
    {'imputed': 1}
    """

    def __init__(self, spec: ModelSpec, state: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.config = spec.prepare
        cfg = self.config
        self._needed = sorted({w.on for w in cfg.windows} | set(cfg.lags) | set(cfg.deltas))
        self._depth = max([max(k) for k in cfg.lags.values()] + [1])
        has_time_window = any(w.seconds is not None for w in cfg.windows)
        self._max_size = max(
            [w.size or 0 for w in cfg.windows]
            + [self._depth + 1, TIME_WINDOW_POINTS if has_time_window else 0]
        )
        self._max_seconds = max([w.seconds or 0.0 for w in cfg.windows] + [0.0])
        # device -> {"last": {name: value}, "history": {name: deque[(ts, value)]}, "ts": float}
        self.devices: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.running: dict[str, _Running] = {}
        self.counts: dict[str, int] = {}
        self.newest_ts = -math.inf
        if state:
            self._restore(state)

    # -- features --------------------------------------------------------------------------
    def prepare(self, reading: Reading) -> Prepared:
        """Features of ``reading`` from earlier readings only; changes no state."""
        x = to_x(reading, self.spec)
        prepared = Prepared(x, reading.device_id, reading.ts.timestamp(), {})
        if not self.config.active:
            return prepared
        cfg = self.config
        device = self.devices.get(reading.device_id)
        if cfg.impute != "none":
            self._impute(x, device, prepared)
        if cfg.outliers != "none":
            self._outliers(x, prepared)
        prepared.cleaned = {k: v for k, v in x.items() if type(v) is float}
        for name in self._needed:  # values not selected as features still feed histories
            value = reading.values.get(name)
            if name not in prepared.cleaned and type(value) is float:
                prepared.cleaned[name] = value
        if cfg.per_device:
            self._device_features(x, device, prepared)
        return prepared

    def _impute(
        self, x: dict[str, Value], device: dict[str, Any] | None, prepared: Prepared
    ) -> None:
        for name in self.spec.features:
            if name in x:
                continue
            if self.config.impute == "last" and device is not None and name in device["last"]:
                x[name] = device["last"][name]
            elif self.config.impute == "mean" and name in self.running:
                x[name] = self.running[name].mean
            else:
                continue
            prepared.events["imputed"] = prepared.events.get("imputed", 0) + 1

    def _outliers(self, x: dict[str, Value], prepared: Prepared) -> None:
        z = self.config.outlier_z
        for name, value in list(x.items()):
            running = self.running.get(name)
            if type(value) is not float or running is None or running.n < _MIN_FOR_OUTLIERS:
                continue
            bound = z * running.std
            if bound > 0 and abs(value - running.mean) > bound:
                if self.config.outliers == "clip":
                    x[name] = running.mean + math.copysign(bound, value - running.mean)
                    prepared.events["clipped"] = prepared.events.get("clipped", 0) + 1
                else:
                    x[f"{name}_outlier"] = 1.0
                    prepared.events["flagged"] = prepared.events.get("flagged", 0) + 1

    def _device_features(
        self, x: dict[str, Value], device: dict[str, Any] | None, prepared: Prepared
    ) -> None:
        cfg = self.config
        history = device["history"] if device is not None else {}
        for window in cfg.windows:
            points = list(history.get(window.on, ()))
            if window.size is not None:
                points = points[-window.size :]
            else:
                horizon = prepared.ts - window.seconds  # type: ignore[operator]
                points = [p for p in points if p[0] >= horizon]
            if points:
                for stat, value in _window_stats(window, points).items():
                    x[f"{window.on}_{stat}_{window.suffix}"] = value
        for name, steps in cfg.lags.items():
            past = history.get(name, ())
            for k in steps:
                if len(past) >= k:
                    x[f"{name}_lag{k}"] = past[-k][1]
        for name in cfg.deltas:
            past = history.get(name, ())
            current = prepared.cleaned.get(name)
            if past and current is not None:
                x[f"{name}_delta"] = current - past[-1][1]
        if device is not None:
            gap = max(prepared.ts - device["ts"], 0.0)  # an out-of-order reading: no gap
            if cfg.gap_feature:
                x["gap_s"] = gap
            if cfg.silence_seconds is not None and gap > cfg.silence_seconds:
                prepared.events["silence"] = 1

    # -- state -----------------------------------------------------------------------------
    def commit(self, prepared: Prepared) -> None:
        """Record a prepared reading into the state, after the model has learned from it."""
        for event, n in prepared.events.items():
            self.counts[event] = self.counts.get(event, 0) + n
        if not self.config.active:
            return
        for name, value in prepared.cleaned.items():
            self.running.setdefault(name, _Running()).update(value)
        if not self.config.per_device:
            return
        device = self.devices.get(prepared.device)
        if device is None:
            device = {"last": {}, "history": {}, "ts": prepared.ts}
            self.devices[prepared.device] = device
        self.devices.move_to_end(prepared.device)
        device["last"].update(prepared.cleaned)
        device["ts"] = max(device["ts"], prepared.ts)
        for name in self._needed:
            value = prepared.cleaned.get(name)
            if value is None:
                continue
            past = device["history"].setdefault(name, deque(maxlen=self._max_size))
            past.append((prepared.ts, value))
            if self._max_seconds:
                # Time windows keep what they cover, but never more than a bounded count.
                while past and past[0][0] < prepared.ts - self._max_seconds and len(past) > 1:
                    past.popleft()
        self.newest_ts = max(self.newest_ts, prepared.ts)
        self._evict()

    def _evict(self) -> None:
        while len(self.devices) > self.config.max_devices:
            self.devices.popitem(last=False)
            self.counts["evicted"] = self.counts.get("evicted", 0) + 1
        oldest = next(iter(self.devices.values()), None)
        while oldest is not None and oldest["ts"] < self.newest_ts - self.config.idle_seconds:
            self.devices.popitem(last=False)
            self.counts["evicted"] = self.counts.get("evicted", 0) + 1
            oldest = next(iter(self.devices.values()), None)

    def silent_devices(self) -> dict[str, float]:
        """Devices not heard for ``silence_seconds`` of event time: device -> last event time."""
        limit = self.config.silence_seconds
        if limit is None:
            return {}
        horizon = self.newest_ts - limit
        return {name: d["ts"] for name, d in self.devices.items() if d["ts"] < horizon}

    def state(self) -> dict[str, Any]:
        """Plain data for the snapshot."""
        return {
            "devices": [
                (
                    name,
                    {
                        "last": dict(d["last"]),
                        "ts": d["ts"],
                        "history": {k: list(v) for k, v in d["history"].items()},
                    },
                )
                for name, d in self.devices.items()
            ],
            "running": {k: (r.n, r.mean, r.m2) for k, r in self.running.items()},
            "counts": dict(self.counts),
            "newest_ts": self.newest_ts,
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.devices = OrderedDict(
            (
                name,
                {
                    "last": d["last"],
                    "ts": d["ts"],
                    "history": {
                        k: deque(v, maxlen=self._max_size) for k, v in d["history"].items()
                    },
                },
            )
            for name, d in state["devices"]
        )
        self.running = {k: _Running(*v) for k, v in state["running"].items()}
        self.counts = dict(state["counts"])
        self.newest_ts = state["newest_ts"]
