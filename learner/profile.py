"""A live profile of the stream: per sensor, how much arrives, how much is missing, its spread.

Built from River's running statistics (mean and variance by Welford, quantiles by P-square on a
systematic sample), so it costs O(1) per value and fits in a snapshot. Sensor names come from
the data, so at most ``max_sensors`` are profiled by name; the rest are summed under ``_other``.
"""

from __future__ import annotations

import math
from typing import Any

from river import stats

from streamwise.events import Reading

QUANTILES = (0.05, 0.5, 0.95)
#: Quantiles are estimated from every 8th value of a sensor (and its first): a systematic
#: sample estimates them as well on a stream, at an eighth of the cost of three P-square updates
#: per value, the largest cost of profiling.
QUANTILE_EVERY = 8
OTHER = "_other"


def _fresh() -> dict[str, Any]:
    return {
        "count": 0,
        "var": stats.Var(),
        "min": math.inf,  # plain floats: River's Min/Max would cost a call per value
        "max": -math.inf,
        "quantiles": [stats.Quantile(q) for q in QUANTILES],
        "non_numeric": 0,
    }


class StreamProfile:
    """Running per-sensor statistics over accepted readings, plus rejections by reason.

    Examples
    --------
    >>> profile = StreamProfile(max_sensors=8)
    >>> for t in (20.0, 22.0, 24.0):
    ...     profile.observe(Reading.example(values={"temp_c": t}))
    >>> profile.observe(Reading.example(values={"humidity_pct": 40.0}))
    >>> report = profile.report({"range": 1, "duplicate": 0})
    >>> temp = report["sensors"]["temp_c"]
    >>> report["readings"], temp["mean"], temp["missing_ratio"]
    (4, 22.0, 0.25)
    """

    def __init__(self, max_sensors: int = 256) -> None:
        self._max_sensors = max_sensors
        self._readings = 0
        self._sensors: dict[str, dict[str, Any]] = {}

    def observe(self, reading: Reading) -> None:
        self._readings += 1
        sensors = self._sensors
        for name, value in reading.values.items():
            entry = sensors.get(name)
            if entry is None:
                if len(sensors) >= self._max_sensors:
                    name = OTHER
                entry = sensors.setdefault(name, _fresh())
            entry["count"] += 1
            if type(value) is float:
                entry["var"].update(value)
                if value < entry["min"]:
                    entry["min"] = value
                if value > entry["max"]:
                    entry["max"] = value
                if entry["count"] % QUANTILE_EVERY == 1:
                    for quantile in entry["quantiles"]:
                        quantile.update(value)
            else:
                entry["non_numeric"] += 1

    def report(self, rejected: dict[str, int]) -> dict[str, Any]:
        """Plain numbers: readings, rejected counts by reason, and per-sensor statistics."""
        sensors = {}
        for name, entry in sorted(self._sensors.items()):
            numeric = entry["count"] - entry["non_numeric"]
            variance = entry["var"].get() if numeric > 1 else None
            sensors[name] = {
                "count": entry["count"],
                "missing_ratio": (
                    1.0 - entry["count"] / self._readings
                    if self._readings and name != OTHER
                    else None
                ),
                "non_numeric": entry["non_numeric"],
                "mean": entry["var"].mean.get() if numeric else None,
                "std": variance**0.5 if variance is not None else None,
                "min": entry["min"] if numeric else None,
                "max": entry["max"] if numeric else None,
                "quantiles": (
                    {
                        f"p{round(q * 100):02d}": s.get()
                        for q, s in zip(QUANTILES, entry["quantiles"], strict=True)
                    }
                    if numeric
                    else {}
                ),
            }
        return {"readings": self._readings, "rejected": dict(rejected), "sensors": sensors}

    def state(self) -> dict[str, Any]:
        """Plain data (dicts of River statistics) for a snapshot."""
        return {"readings": self._readings, "sensors": self._sensors}

    def restore(self, state: dict[str, Any]) -> None:
        self._readings = state["readings"]
        self._sensors = state["sensors"]
