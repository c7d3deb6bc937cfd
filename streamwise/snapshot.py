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

#: Module prefixes whose classes a snapshot may contain.
_ALLOWED_MODULE_PREFIXES = (
    "river.",
    "numpy",
    "scipy.",
    "collections",
    "streamwise.snapshot",
    "datetime",
    "copyreg",
    "_codecs",
    "functools",
    "math",
    "operator",
    "random",
)
#: builtins that only build data; getattr, eval, exec and friends are deliberately absent.
_ALLOWED_BUILTINS = frozenset(
    {"dict", "list", "tuple", "set", "frozenset", "int", "float", "complex", "bool", "str",
     "bytes", "bytearray", "slice", "range", "object"}
)
_DENIED_NAMES = frozenset({"eval", "exec", "system", "getattr", "__import__", "attrgetter",
                           "methodcaller", "open", "compile"})


@dataclass(slots=True)
class Snapshot:
    """A learner's complete state at one point of the stream.

    ``next_offsets`` are the offsets of the first records *not* reflected in the model: resuming
    seeks there, so every record is learned exactly once across restarts.
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
    last_event_ts: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = (
            (module == "builtins" and name in _ALLOWED_BUILTINS)
            or module.startswith(_ALLOWED_MODULE_PREFIXES)
            or module in {"numpy", "collections", "datetime", "copyreg", "math"}
        )
        if not allowed or name in _DENIED_NAMES:
            raise SnapshotRejected(f"snapshot refers to {module}.{name}, which is not allow-listed")
        return super().find_class(module, name)


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
    streamwise.errors.SnapshotRejected: snapshot signature mismatch: STREAMWISE_SNAPSHOT__KEY must match the learner's key
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
