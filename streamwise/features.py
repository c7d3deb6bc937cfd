"""Readings -> River feature dicts. Pure, and shared by the learner and the API so they agree."""

from __future__ import annotations

import math

from streamwise.errors import InvalidEvent
from streamwise.events import Reading, Value
from streamwise.spec import ModelSpec

_DAY_FRACTION = 2.0 * math.pi / 86_400.0


def to_x(reading: Reading, spec: ModelSpec) -> dict[str, Value]:
    """Turn one reading into the features the spec declares.

    Declared features missing from a reading are left out (River models treat them as absent);
    with no declared features every value except the target is used. Strings are accepted only
    by pipelines that encode them (``OneHotEncoder``); elsewhere they raise ``InvalidEvent``.
    A new dict is returned, so River's ``learn_one`` never shares state with the reading.

    Examples
    --------
    >>> spec = ModelSpec.example(time_features=True)
    >>> to_x(Reading.example(values={"temp_c": 21.5}), spec)   # example() is stamped 00:00 UTC
    {'temp_c': 21.5, 'hour_sin': 0.0, 'hour_cos': 1.0}
    >>> to_x(Reading.example(values={"temp_c": "warm"}), spec)
    Traceback (most recent call last):
    ...
    streamwise.errors.InvalidEvent: type: feature 'temp_c' of model 'fault-detector' must be ...
    """
    values = reading.values
    if spec.features:
        x = {name: values[name] for name in spec.features if name in values}
    else:
        x = {name: v for name, v in values.items() if name != spec.target}
    if spec.numeric_only:
        for name, value in x.items():
            if type(value) is str:
                raise InvalidEvent(
                    "type",
                    f"feature {name!r} of model {spec.model_id!r} must be a number, "
                    f"got the string {value[:40]!r}",
                )
    if spec.time_features:
        ts = reading.ts
        angle = (ts.hour * 3600 + ts.minute * 60 + ts.second) * _DAY_FRACTION
        x["hour_sin"] = math.sin(angle)
        x["hour_cos"] = math.cos(angle)
    return x


def target_of(reading: Reading, spec: ModelSpec) -> Value | None:
    """The ground truth a reading carries for this spec, if any.

    Examples
    --------
    >>> target_of(Reading.example(), ModelSpec.example())
    False
    >>> target_of(Reading.example(labels={}), ModelSpec.example()) is None
    True
    """
    y = (
        reading.labels[spec.target]
        if spec.target in reading.labels
        else reading.values.get(spec.target)
    )
    if spec.task == "regression" and type(y) in (str, bool):
        raise InvalidEvent(
            "type",
            f"target {spec.target!r} of regression model {spec.model_id!r} must be a "
            f"number, got {y!r}"[:200],
        )
    return y
