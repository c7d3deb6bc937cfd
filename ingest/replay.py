"""Replay River's bundled datasets as readings, in order, to check results against River."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterator
from typing import Any

from river import datasets

from streamwise.errors import ConfigError
from streamwise.events import Reading

#: Label name under which a dataset's target travels; specs for replays use ``target = "y"``.
TARGET = "y"
_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def bundled_datasets() -> list[str]:
    """River datasets that ship with the package (no download needed).

    Examples
    --------
    >>> {"Phishing", "TrumpApproval", "Bananas"} <= set(bundled_datasets())
    True
    """
    return sorted(
        name
        for name, obj in vars(datasets).items()
        if inspect.isclass(obj)
        and issubclass(obj, datasets.base.FileDataset)
        and not issubclass(obj, datasets.base.RemoteDataset)
        and name in datasets.__all__
    )


def load_dataset(ref: str) -> Any:
    """Instantiate a dataset from a reference such as ``river:Phishing``."""
    scheme, _, name = ref.partition(":")
    if scheme != "river" or not name:
        raise ConfigError(f"dataset {ref!r}: expected river:<Name>, e.g. river:Phishing")
    if name not in bundled_datasets():
        raise ConfigError(
            f"dataset {ref!r} is not a bundled River dataset; choose one of {bundled_datasets()}"
        )
    return getattr(datasets, name)()


def readings(ref: str, limit: int | None = None) -> Iterator[Reading]:
    """The dataset as readings of one device (one key, so one partition, so River's order).

    Each reading's ``values`` are the sample's features and ``labels["y"]`` its target. A
    datetime feature (a time series' timestamp, as in ``river:AirlinePassengers``) becomes the
    reading's event time instead of a value; otherwise readings are one second apart. A sample
    with no other feature (a plain series) carries its target as its only value.

    Examples
    --------
    >>> first = next(readings("river:Phishing"))
    >>> first.event_id, first.device_id, sorted(first.values)[:2], first.labels
    ('phishing-00000000', 'phishing', ['age_of_domain', 'anchor_from_other_domain'], {'y': True})
    """
    dataset = load_dataset(ref)
    device = type(dataset).__name__.lower()
    for i, (x, y) in enumerate(dataset):
        if limit is not None and i >= limit:
            return
        ts = _START + dt.timedelta(seconds=i)
        values = {}
        for name, value in x.items():
            if isinstance(value, dt.datetime):
                ts = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
            elif isinstance(value, int | float | str):
                values[name] = value
            else:
                raise ConfigError(
                    f"dataset {ref!r}: feature {name!r} is a {type(value).__name__}; only numbers, "
                    "booleans, strings and one datetime (the event time) can travel in a reading"
                )
        # A series with no feature but its time carries the target as its only value.
        labels = {TARGET: y} if values else {}
        yield Reading(
            event_id=f"{device}-{i:08d}",
            device_id=device,
            ts=ts,
            values=values or {TARGET: y},
            labels=labels,
        )
