"""Signed model snapshots: everything a learner needs to resume, in one verifiable blob.

Layout: ``MAGIC`` | HMAC-SHA256(key, MAGIC + body) | body, where body is a pickle at the highest
protocol. The signature is checked before a single byte is unpickled, and unpickling then
resolves only classes from an allow-list of modules, so a store that was written to by someone
without the key, or a blob from elsewhere, can never run code here.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import pickle
from dataclasses import dataclass, field
from typing import Any

from streamwise.errors import SnapshotRejected

MAGIC = b"SWS1"
_DIGEST_BYTES = 32

#: Module prefixes whose classes and functions a snapshot may refer to.
_ALLOWED_MODULE_PREFIXES = ("river.",)
#: Single names outside River that River models pickle and that only rebuild data.
_ALLOWED_NAMES = frozenset(
    {
        ("builtins", n)
        for n in (
            "dict",
            "list",
            "tuple",
            "set",
            "frozenset",
            "int",
            "float",
            "complex",
            "bool",
            "str",
            "bytes",
            "bytearray",
            "slice",
            "range",
        )
    }
    | {("collections", n) for n in ("Counter", "OrderedDict", "defaultdict", "deque")}
    | {("datetime", n) for n in ("datetime", "date", "time", "timedelta", "timezone")}
    | {("numpy", "dtype"), ("numpy", "ndarray")}
    | {
        (f"numpy.{core}.{module}", name)
        for core in ("core", "_core")
        for module, name in (
            ("multiarray", "scalar"),
            ("multiarray", "_reconstruct"),
            ("numeric", "_frombuffer"),
        )
    }
    | {
        ("numpy.random._pickle", n)
        for n in ("__randomstate_ctor", "__generator_ctor", "__bit_generator_ctor")
    }
    | {
        ("random", "Random"),
        ("functools", "partial"),
        ("copy", "deepcopy"),
        ("statistics", "NormalDist"),
        ("streamwise.snapshot", "Snapshot"),
        ("streamwise.snapshot", "CandidateState"),
    }
)


def _bound_method(obj: object, name: str) -> Any:
    """``getattr`` as pickle uses it for bound methods (PA models keep one), and nothing more.

    A general getattr would let a crafted pickle walk from any allowed object to ``__globals__``
    and on to ``os``; a method of an allow-listed class, by a non-dunder name, cannot.
    """
    if name.startswith("__"):
        raise SnapshotRejected(f"snapshot asks for attribute {name!r}, which is not allowed")
    value = getattr(obj, name)
    func = getattr(value, "__func__", None)
    module = getattr(func, "__module__", "") or ""
    if func is None or not module.startswith(_ALLOWED_MODULE_PREFIXES):
        raise SnapshotRejected(f"snapshot asks for {type(obj).__name__}.{name}, not a model method")
    return value


@dataclass(slots=True)
class CandidateState:
    """One candidate model of a spec, its progressive-validation metrics and its drift state."""

    name: str
    model: Any
    metrics: dict[str, Any]
    rolling_metrics: dict[str, Any]
    metric_values: dict[str, dict[str, float | None]]
    detector: Any = None
    events_learned: int = 0
    drifts: int = 0
    #: Consecutive labelled events this challenger has been ahead of the champion.
    ahead: int = 0
    #: The model's ``events_learned`` when this candidate started (0, or a drift reset).
    started_at: int = 0
    #: Metrics over held-out events only (spec ``holdout``); empty without a holdout.
    holdout_metrics: dict[str, Any] = field(default_factory=dict)
    holdout_rolling: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Snapshot:
    """A learner's complete state at one point of the stream.

    ``next_offsets`` are the offsets of the first records *not* reflected in the model: resuming
    seeks there, so every record is learned exactly once across restarts. ``model`` and the
    metrics are the champion's, the one served; ``candidates`` holds every candidate (the
    champion included, sharing its objects) with its own metrics.
    """

    model_id: str
    spec_digest: str
    version: int
    created_at: float
    model: Any
    metrics: dict[str, Any]
    rolling_metrics: dict[str, Any]
    metric_values: dict[str, dict[str, float | None]]
    next_offsets: dict[tuple[str, int], int]
    events_seen: int = 0
    events_learned: int = 0
    events_rejected: int = 0
    events_held_out: int = 0
    last_event_ts: float | None = None
    #: The model's cleaning and per-device feature state (``streamwise.prepare``), plain data.
    prepare_state: dict[str, Any] = field(default_factory=dict)
    #: The learner's stream-level state (dedup window, device clocks, profile) as plain data,
    #: valid at ``stream_position``; restored from the snapshot the learner resumes at.
    stream_state: dict[str, Any] = field(default_factory=dict)
    stream_position: dict[tuple[str, int], int] = field(default_factory=dict)
    #: The stream profile and data-quality counts as plain numbers, for the API.
    stream_report: dict[str, Any] = field(default_factory=dict)
    champion: str = "main"
    candidates: dict[str, CandidateState] = field(default_factory=dict)
    #: Recent promotions, drifts and rollbacks, oldest first, as plain data.
    lifecycle: list[dict[str, Any]] = field(default_factory=list)
    #: Running totals behind the lifecycle counters ("promotions:auto", "drifts:<candidate>").
    lifecycle_counts: dict[str, int] = field(default_factory=dict)
    #: Readings waiting for a delayed label: (event id, (event time, x, predictions asked)).
    pending_labels: list[tuple[str, Any]] = field(default_factory=list)
    #: Forecasting: the series values read but not learned yet (the last ``horizon``).
    series: list[tuple[dict[str, Any], Any]] = field(default_factory=list)
    #: An automatic promotion decided but not applied yet: (reason, candidate).
    pending_promotion: tuple[str, str] | None = None
    events_unlabelled: int = 0
    events_awaiting: int = 0
    #: Why this version exists: ``{"parent": version, "reason": ...}``.
    lineage: dict[str, Any] = field(default_factory=dict)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "getattr"):
            return _bound_method
        if (module, name) in _ALLOWED_NAMES or module.startswith(_ALLOWED_MODULE_PREFIXES):
            return super().find_class(module, name)
        raise SnapshotRejected(f"snapshot refers to {module}.{name}, which is not allow-listed")


def _sign(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, MAGIC + body, hashlib.sha256).digest()


def encode(snapshot: Snapshot, key: bytes) -> bytes:
    """Pickle and sign a snapshot.

    Examples
    --------
    >>> blob = encode(Snapshot("m", "d", 1, 0.0, None, {}, {}, {}, {("t", 0): 5}), b"k" * 32)
    >>> decode(blob, b"k" * 32).next_offsets
    {('t', 0): 5}
    >>> decode(blob, b"x" * 32)
    Traceback (most recent call last):
    ...
    streamwise.errors.SnapshotRejected: snapshot signature mismatch: STREAMWISE_SNAPSHOT__KEY ...
    """
    body = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
    return MAGIC + _sign(key, body) + body


def decode(blob: bytes, key: bytes) -> Snapshot:
    """Verify, then unpickle, a snapshot written by :func:`encode`.

    Raises
    ------
    SnapshotRejected
        Wrong format, signature mismatch, a class outside the allow-list, or not a snapshot.
    """
    header = len(MAGIC) + _DIGEST_BYTES
    if len(blob) < header or not blob.startswith(MAGIC):
        raise SnapshotRejected("not a streamwise snapshot (bad header)")
    signature, body = blob[len(MAGIC) : header], blob[header:]
    if not hmac.compare_digest(signature, _sign(key, body)):
        raise SnapshotRejected(
            "snapshot signature mismatch: STREAMWISE_SNAPSHOT__KEY must match the learner's key"
        )
    try:
        snapshot = _RestrictedUnpickler(io.BytesIO(body)).load()
    except SnapshotRejected:
        raise
    except Exception as err:  # a signed but unreadable body: a version skew, reported as such
        raise SnapshotRejected(f"snapshot body cannot be unpickled: {err!r}") from err
    if not isinstance(snapshot, Snapshot):
        raise SnapshotRejected(f"signed blob holds a {type(snapshot).__name__}, not a Snapshot")
    return snapshot
