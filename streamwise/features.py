"""Readings -> River feature dicts. Pure, and shared by the learner and the API so they agree."""

from __future__ import annotations

import math

from streamwise.events import Reading, Value
from streamwise.spec import ModelSpec

_DAY_FRACTION = 2.0 * math.pi / 86_400.0


def to_x(reading: Reading, spec: ModelSpec) -> dict[str, Value]:
    """Turn one reading into the features the spec declares.

    Declared features missing from a reading are left out (River models treat them as absent);
    with no declared features every value except the target is used. A new dict is returned:
    the reading itself is immutable and River's ``learn_one`` must not see shared state.

    Examples
    --------
    >>> spec = ModelSpec.example(time_features=True)
    >>> to_x(Reading.example(values={"temp_c": 21.5}), spec)   # example() is stamped 00:00 UTC
    {'temp_c': 21.5, 'hour_sin': 0.0, 'hour_cos': 1.0}
    """
    values = reading.values
    if spec.features:
        x = {name: values[name] for name in spec.features if name in values}
    else:
        x = {name: v for name, v in values.items() if name != spec.target}
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
    if spec.target in reading.labels:
        return reading.labels[spec.target]
    return reading.values.get(spec.target)
