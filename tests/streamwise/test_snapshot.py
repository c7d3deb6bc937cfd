"""Snapshots: signed, verified before unpickling, restricted to allow-listed classes."""

from __future__ import annotations

import os
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamwise import snapshot
from streamwise.errors import SnapshotRejected

KEY = b"s" * 32


def make(**changes: object) -> snapshot.Snapshot:
    fields: dict[str, object] = {
        "model_id": "m",
        "spec_digest": "d",
        "version": 1,
        "created_at": 0.0,
        "model": None,
        "metrics": {},
        "rolling_metrics": {},
        "metric_values": {},
        "next_offsets": {},
    }
    fields.update(changes)
    return snapshot.Snapshot(**fields)  # type: ignore[arg-type]


@given(
    st.dictionaries(
        st.tuples(st.text(max_size=10), st.integers(0, 64)), st.integers(0, 2**62), max_size=8
    )
)
def test_offsets_round_trip(offsets: dict[tuple[str, int], int]) -> None:
    assert (
        snapshot.decode(snapshot.encode(make(next_offsets=offsets), KEY), KEY).next_offsets
        == offsets
    )


def test_any_flipped_byte_is_refused() -> None:
    blob = bytearray(snapshot.encode(make(), KEY))
    for position in (0, 5, 40, len(blob) - 1):
        tampered = bytearray(blob)
        tampered[position] ^= 0xFF
        with pytest.raises(SnapshotRejected):
            snapshot.decode(bytes(tampered), KEY)


class Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_a_correctly_signed_pickle_of_a_forbidden_class_is_not_loaded() -> None:
    # Even with the key (e.g. leaked), unpickling resolves only allow-listed classes.
    body = pickle.dumps(make(model=Exploit()), protocol=pickle.HIGHEST_PROTOCOL)
    blob = snapshot.MAGIC + snapshot._sign(KEY, body) + body
    with pytest.raises(SnapshotRejected, match="not allow-listed"):
        snapshot.decode(blob, KEY)


def test_a_signed_non_snapshot_is_refused() -> None:
    body = pickle.dumps({"model": 1}, protocol=pickle.HIGHEST_PROTOCOL)
    with pytest.raises(SnapshotRejected, match="not a Snapshot"):
        snapshot.decode(snapshot.MAGIC + snapshot._sign(KEY, body) + body, KEY)


def test_garbage_is_refused() -> None:
    with pytest.raises(SnapshotRejected, match="bad header"):
        snapshot.decode(b"hello", KEY)


class DunderWalk:
    def __reduce__(self) -> tuple[object, tuple[object, str]]:
        return (getattr, (snapshot.Snapshot, "__init__"))


class NonMethod:
    def __reduce__(self) -> tuple[object, tuple[object, str]]:
        return (getattr, ([], "append"))  # a builtin method, not a model's


@pytest.mark.parametrize("gadget", [DunderWalk(), NonMethod()])
def test_getattr_gadgets_are_refused(gadget: object) -> None:
    body = pickle.dumps(make(model=gadget), protocol=pickle.HIGHEST_PROTOCOL)
    with pytest.raises(SnapshotRejected, match="not allowed|not a model method"):
        snapshot.decode(snapshot.MAGIC + snapshot._sign(KEY, body) + body, KEY)
