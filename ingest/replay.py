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

    Each reading's ``values`` are the sample's features and ``labels["y"]`` its target.

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
        for name, value in x.items():
            if not isinstance(value, int | float | str):
                raise ConfigError(
                    f"dataset {ref!r}: feature {name!r} is a {type(value).__name__}; only numbers, "
                    "booleans and strings can travel as reading values"
                )
        yield Reading(
            event_id=f"{device}-{i:08d}",
            device_id=device,
            ts=_START + dt.timedelta(seconds=i),
            values=x,
            labels={TARGET: y},
        )
