"""The models being served, swapped whole when the store has a newer verified snapshot."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from streamwise import snapshot
from streamwise.clock import Clock
from streamwise.errors import ModelNotReady, SnapshotRejected, StoreError, UnknownModel
from streamwise.ports import SnapshotStore
from streamwise.prepare import Preparer
from streamwise.spec import ModelSpec
from streamwise.telemetry import ApiMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServedModel:
    """One verified snapshot and the spec it was trained from; replaced, never mutated."""

    spec: ModelSpec
    snap: snapshot.Snapshot
    loaded_at: float
    preparer: Preparer


class ServedModels:
    """The API's view of every model: reads are lock-free reference reads of a dict entry.

    :meth:`refresh` builds the new snapshot completely before one assignment swaps it in, so a
    request in flight keeps the model it started with and no request ever waits for a load.
    """

    def __init__(
        self,
        specs: Sequence[ModelSpec],
        store: SnapshotStore,
        key: bytes,
        clock: Clock,
        metrics: ApiMetrics | None = None,
    ) -> None:
        self.specs = {spec.model_id: spec for spec in specs}
        self.default_model = specs[0].model_id
        self.store = store
        self._key = key
        self._clock = clock
        self._metrics = metrics
        self._served: dict[str, ServedModel] = {}
        self._rejected: dict[str, int] = {}
        self.store_ok = False

    def spec(self, model_id: str) -> ModelSpec:
        """The spec of a configured model, or :class:`UnknownModel`."""
        spec = self.specs.get(model_id)
        if spec is None:
            raise UnknownModel(
                f"model {model_id!r} is not served here; known: {sorted(self.specs)}"
            )
        return spec

    def get(self, model_id: str | None) -> ServedModel:
        """The served model, or a clear error if unknown or not loaded yet."""
        model_id = model_id or self.default_model
        self.spec(model_id)
        served = self._served.get(model_id)
        if served is None:
            raise ModelNotReady(f"model {model_id!r} has no snapshot yet; is the learner running?")
        return served

    def all(self) -> list[ServedModel]:
        return list(self._served.values())

    def versions(self) -> dict[str, int | None]:
        """Served version per configured model (None: not loaded yet)."""
        return {
            mid: (m.snap.version if (m := self._served.get(mid)) else None) for mid in self.specs
        }

    def snapshots(self) -> list[snapshot.Snapshot]:
        """The served snapshots, for the Prometheus collector."""
        return [m.snap for m in self._served.values()]

    def ready(self) -> bool:
        return len(self._served) == len(self.specs)

    def refresh(self) -> int:
        """Load every model whose latest store version differs from the served one.

        If the store is unreachable the API keeps serving what it has; ``store_ok`` (shown by
        /readyz) says so. Returns the number of models loaded.
        """
        loaded, failure = 0, None
        for model_id, spec in self.specs.items():
            try:
                loaded += self._refresh_one(model_id, spec)
            except StoreError as err:
                failure = err
                self._count(model_id, "error")
        if failure is not None and self.store_ok:
            log.warning("snapshot store unreachable", extra={"error": str(failure)})
        self.store_ok = failure is None
        return loaded

    def _refresh_one(self, model_id: str, spec: ModelSpec) -> int:
        latest = self.store.latest_version(model_id)
        current = self._served.get(model_id)
        # Follow the latest pointer wherever it goes: after a reset versions restart at 1.
        if latest is None or (current is not None and current.snap.version == latest):
            return 0
        if self._rejected.get(model_id) == latest:
            return 0  # already refused this one; do not log it twice a second
        stored = self.store.load(model_id, latest)
        if stored is None:
            return 0  # pruned between the two reads; the next refresh sees a newer one
        try:
            snap = snapshot.decode(stored.blob, self._key)
            if snap.spec_digest != spec.digest():
                raise SnapshotRejected(
                    f"snapshot v{snap.version} of {model_id!r} comes from spec {snap.spec_digest}, "
                    f"this API serves spec {spec.digest()}"
                )
        except SnapshotRejected as err:
            self._rejected[model_id] = latest
            self._count(model_id, "rejected")
            log.error(
                "snapshot rejected",
                extra={"model_id": model_id, "version": latest, "error": str(err)},
            )
            return 0
        preparer = Preparer(spec, snap.prepare_state)  # built once per load, read-only after
        now = self._clock.now()
        self._served[model_id] = ServedModel(spec, snap, now, preparer)
        self._count(model_id, "loaded")
        if self._metrics is not None and snap.last_event_ts is not None:
            self._metrics.freshness.labels(model_id).observe(max(now - snap.last_event_ts, 0.0))
        log.info(
            "snapshot loaded",
            extra={
                "model_id": model_id,
                "version": snap.version,
                "events_learned": snap.events_learned,
            },
        )
        return 1

    def _count(self, model_id: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.reloads.labels(model_id, outcome).inc()
