"""Stateless data-quality rules: the sensor catalog, physical ranges and unit normalisation.

Stateful checks (duplicates, lateness) live with the learner in ``learner/clean.py``; what here
is pure, so the API applies the same conversions and ranges to prediction requests.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from streamwise.errors import ConfigError, InvalidEvent
from streamwise.events import Reading

BUNDLED_CATALOG = Path(__file__).parent / "catalog" / "sensors.toml"

#: (from, to) -> (scale, offset): value_to = value_from * scale + offset. SenML unit names.
CONVERSIONS: dict[tuple[str, str], tuple[float, float]] = {
    ("degF", "Cel"): (5.0 / 9.0, -32.0 * 5.0 / 9.0),
    ("K", "Cel"): (1.0, -273.15),
    ("Cel", "degF"): (9.0 / 5.0, 32.0),
    ("Cel", "K"): (1.0, 273.15),
    ("kW", "W"): (1000.0, 0.0),
    ("W", "kW"): (0.001, 0.0),
    ("m/s", "mm/s"): (1000.0, 0.0),
    ("in/s", "mm/s"): (25.4, 0.0),
    ("mm/s", "m/s"): (0.001, 0.0),
    ("%", "%RH"): (1.0, 0.0),
    ("/", "%RH"): (100.0, 0.0),  # SenML "/" is a ratio 0..1
    ("hPa", "Pa"): (100.0, 0.0),
    ("kPa", "Pa"): (1000.0, 0.0),
}


class SensorSpec(BaseModel):
    """One known sensor: its canonical unit and physical range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit: str = Field(min_length=1)
    min: float = -math.inf
    max: float = math.inf

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class SensorCatalog(BaseModel):
    """Every known sensor by value name.

    Examples
    --------
    >>> catalog = SensorCatalog(sensors={"temp_c": {"unit": "Cel", "min": -60, "max": 150}})
    >>> r = catalog.check(Reading.example(values={"temp_c": 212.0}, units={"temp_c": "degF"}))
    >>> r.values["temp_c"], r.units["temp_c"]
    (100.0, 'Cel')
    >>> catalog.check(Reading.example(values={"temp_c": 900.0}))
    Traceback (most recent call last):
    ...
    streamwise.errors.InvalidEvent: range: temp_c=900.0 Cel is outside [-60.0, 150.0]
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sensors: dict[str, SensorSpec] = Field(default_factory=dict)
    reject_unknown: bool = False

    @classmethod
    def from_toml(cls, path: Path, reject_unknown: bool = False) -> Self:
        """Read a catalog file; raise :class:`ConfigError` naming what is wrong."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return cls.model_validate({**data, "reject_unknown": reject_unknown})
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"cannot read sensor catalog {path}: {err}") from None
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in err.errors(include_url=False)
            )
            raise ConfigError(f"invalid sensor catalog {path}: {problems}") from None

    def check(self, reading: Reading) -> Reading:
        """The reading with known units converted to canonical ones, or ``InvalidEvent``.

        Reasons: ``unit`` (a unit that cannot be converted), ``type`` (a known sensor sent a
        string or a boolean), ``range`` (outside the physical range), ``unknown`` (a sensor
        not in the catalog, when unknown sensors are rejected).
        """
        converted: dict[str, float] | None = None
        for name, value in reading.values.items():
            sensor = self.sensors.get(name)
            if sensor is None:
                if self.reject_unknown:
                    raise InvalidEvent("unknown", f"sensor {name!r} is not in the catalog")
                continue
            if type(value) is not float:
                raise InvalidEvent("type", f"{name}={value!r} must be a number ({sensor.unit})")
            unit = reading.units.get(name, sensor.unit)
            if unit != sensor.unit:
                factor = CONVERSIONS.get((unit, sensor.unit))
                if factor is None:
                    raise InvalidEvent(
                        "unit", f"{name} in {unit!r} cannot be converted to {sensor.unit!r}"
                    )
                value = value * factor[0] + factor[1]
                converted = converted or {}
                converted[name] = value
            if not sensor.min <= value <= sensor.max:
                raise InvalidEvent(
                    "range",
                    f"{name}={value!r} {sensor.unit} is outside [{sensor.min}, {sensor.max}]",
                )
        if converted is None:
            return reading
        return reading.model_copy(
            update={
                "values": {**reading.values, **converted},
                "units": {**reading.units, **{n: self.sensors[n].unit for n in converted}},
            }
        )
