"""The model registry, read side and command side: what versions exist, and asking for changes.

Versions are the snapshots in the store, each with its lineage; changes (promote, rollback)
are commands on the control topic, applied by the learner (see ``api/routes/admin.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from streamwise import snapshot
from streamwise.clock import Clock
from streamwise.errors import ModelNotReady
from streamwise.events import Command
from streamwise.ports import SnapshotStore


def new_command(clock: Clock, **fields: Any) -> Command:
    """A command stamped with the clock's time."""
    return Command(requested_at=dt.datetime.fromtimestamp(clock.now(), dt.UTC), **fields)


def load(
    store: SnapshotStore, key: bytes, model_id: str, version: int | None = None
) -> snapshot.Snapshot:
    """A verified snapshot of a model (the latest by default)."""
    stored = store.load(model_id, version)
    if stored is None:
        which = f"no version {version}" if version is not None else "no snapshot"
        raise ModelNotReady(
            f"{model_id!r} has {which} in the store; retained: {store.versions(model_id)}"
        )
    return snapshot.decode(stored.blob, key)


def describe(snap: snapshot.Snapshot) -> dict[str, Any]:
    """A snapshot's registry entry as plain data: lineage, champion, candidates, lifecycle."""
    return {
        "model_id": snap.model_id,
        "version": snap.version,
        "created_at": snap.created_at,
        "spec_digest": snap.spec_digest,
        "lineage": snap.lineage,
        "events_learned": snap.events_learned,
        "next_offsets": {f"{t}/{p}": o for (t, p), o in sorted(snap.next_offsets.items())},
        "champion": snap.champion,
        "candidates": {
            name: {
                "events_learned": c.events_learned,
                "started_at": c.started_at,
                "drifts": c.drifts,
                "ahead": c.ahead,
                "metrics": c.metric_values,
            }
            for name, c in snap.candidates.items()
        },
        "lifecycle": snap.lifecycle,
    }


def outcome(
    store: SnapshotStore,
    key: bytes,
    model_id: str,
    request_id: str,
    clock: Clock,
    timeout_s: float,
) -> dict[str, Any] | None:
    """Wait until the learner has applied (or refused) a command; its lifecycle event or None."""
    deadline = clock.monotonic() + timeout_s
    seen: int | None = None
    while True:
        latest = store.latest_version(model_id)
        if latest is not None and latest != seen:
            seen = latest
            stored = store.load(model_id, latest)
            if stored is not None:
                for event in reversed(snapshot.decode(stored.blob, key).lifecycle):
                    if event.get("request_id") == request_id:
                        return event
        if clock.monotonic() >= deadline:
            return None
        clock.sleep(0.2)
