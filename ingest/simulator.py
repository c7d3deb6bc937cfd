"""A simulated fleet of environmental sensors with a learnable fault signal.

Each device measures temperature, humidity, vibration and electrical power. Signals follow a
daily cycle plus noise and a slow per-device sensor drift. Devices fall into faults now and then
(a two-state Markov chain); a fault raises vibration and power draw and warms the device, so
``labels["fault"]`` is learnable from the readings, and power is a regression target explained
by temperature and humidity.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from streamwise.events import Reading

UNITS = {"temp_c": "Cel", "humidity_pct": "%RH", "vibration_mm_s": "mm/s", "power_w": "W"}


@dataclass
class _Device:
    device_id: str
    base_temp: float
    base_power: float
    drift_per_day: float
    phase: float
    in_fault: bool = False
    seq: int = 0


class Fleet:
    """``n_devices`` simulated devices, reproducible from ``seed``.

    Parameters
    ----------
    n_devices
        Number of devices.
    seed
        Random seed; the same seed gives the same readings.
    fault_rate
        Chance per reading that a healthy device starts a fault.
    fault_recovery
        Chance per reading that a faulty device recovers.

    Examples
    --------
    >>> fleet = Fleet(n_devices=2, seed=7)
    >>> batch = fleet.tick(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC))
    >>> [r.device_id for r in batch], sorted(batch[0].values)
    (['dev-0000', 'dev-0001'], ['humidity_pct', 'power_w', 'temp_c', 'vibration_mm_s'])
    """

    def __init__(
        self,
        n_devices: int,
        seed: int = 0,
        fault_rate: float = 0.01,
        fault_recovery: float = 0.1,
    ) -> None:
        if n_devices < 1:
            raise ValueError(f"n_devices must be >= 1, got {n_devices}")
        self._rng = random.Random(seed)
        self._fault_rate = fault_rate
        self._fault_recovery = fault_recovery
        rng = self._rng
        self.devices = [
            _Device(
                device_id=f"dev-{i:04d}",
                base_temp=rng.uniform(18.0, 26.0),
                base_power=rng.uniform(120.0, 200.0),
                drift_per_day=rng.gauss(0.0, 0.05),
                phase=rng.uniform(-1.0, 1.0),
            )
            for i in range(n_devices)
        ]
        self._start: dt.datetime | None = None

    def tick(self, ts: dt.datetime) -> list[Reading]:
        """One reading from every device, all stamped ``ts``."""
        if self._start is None:
            self._start = ts
        days = (ts - self._start).total_seconds() / 86_400.0
        hour = ts.hour + ts.minute / 60.0 + ts.second / 3600.0
        return [self._read(device, ts, hour, days) for device in self.devices]

    def _read(self, d: _Device, ts: dt.datetime, hour: float, days: float) -> Reading:
        rng = self._rng
        if d.in_fault:
            d.in_fault = rng.random() >= self._fault_recovery
        else:
            d.in_fault = rng.random() < self._fault_rate
        daily = math.sin(2.0 * math.pi * (hour - 9.0) / 24.0 + d.phase)  # warmest mid-afternoon
        temp = d.base_temp + 4.0 * daily + d.drift_per_day * days + rng.gauss(0.0, 0.4)
        humidity = min(100.0, max(0.0, 55.0 - 8.0 * daily + rng.gauss(0.0, 2.0)))
        vibration = abs(rng.gauss(2.0, 0.4))
        power = d.base_power + 6.0 * (temp - 20.0) + 0.3 * humidity + rng.gauss(0.0, 4.0)
        if d.in_fault:
            vibration += abs(rng.gauss(4.0, 1.5))
            power += rng.gauss(60.0, 15.0)
            temp += rng.uniform(1.0, 4.0)
        d.seq += 1
        return Reading(
            event_id=f"{d.device_id}-{ts.strftime('%Y%m%dT%H%M%S%f')}-{d.seq}",
            device_id=d.device_id,
            ts=ts,
            values={
                "temp_c": round(temp, 3),
                "humidity_pct": round(humidity, 2),
                "vibration_mm_s": round(vibration, 3),
                "power_w": round(power, 2),
            },
            units=UNITS,
            labels={"fault": d.in_fault},
        )
