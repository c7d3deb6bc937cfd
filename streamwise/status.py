"""``streamwise status``: the health of the whole stack, gathered in one pass.

Each check says ok, failed (with the reason) or not applicable, and never raises: a stack that
is half down must still get a complete, true report. Models are read from the snapshot store
(the source of truth), lag from the bus's end offsets against each model's ``next_offsets``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from streamwise import registry
from streamwise.clock import Clock
from streamwise.errors import StreamwiseError
from streamwise.ports import Bus, SnapshotStore
from streamwise.settings import Settings
from streamwise.spec import LOWER_IS_BETTER, ModelSpec
from streamwise.wiring import build_bus, build_store

_IN_DEMO_ONLY = "in memory: it exists only inside `streamwise demo`"


@dataclass
class Check:
    """One component: ``ok`` is None when the check does not apply to this configuration."""

    name: str
    ok: bool | None
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    checks: list[Check]
    models: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks) and all(m["ok"] for m in self.models)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [asdict(c) for c in self.checks],
            "models": self.models,
        }


def _http(url: str, timeout_s: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 (loopback)
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 (a listen address)


def check_store(settings: Settings) -> tuple[Check, SnapshotStore | None]:
    if settings.store == "memory":
        return Check("store", None, f"memory store {_IN_DEMO_ONLY}"), None
    try:
        store = build_store(settings)
        store.ping()
    except StreamwiseError as err:
        return Check("store", False, f"Redis unreachable: {err}"), None
    return Check("store", True, "Redis answers"), store


def check_bus(settings: Settings) -> tuple[Check, dict[tuple[str, int], int] | None]:
    if settings.bus == "memory":
        return Check("bus", None, f"memory bus {_IN_DEMO_ONLY}"), None
    bus: Bus | None = None
    try:
        bus = build_bus(settings)
        bus.subscribe([settings.topics.readings])
        ends = bus.end_offsets()
    except StreamwiseError as err:
        return Check("bus", False, f"Kafka unreachable: {err}"), None
    finally:
        if bus is not None:
            bus.close()
    total = sum(ends.values())
    return (
        Check(
            "bus",
            True,
            f"{settings.topics.readings}: {len(ends)} partitions, {total} records",
            {"end_offsets": {f"{t}/{p}": o for (t, p), o in sorted(ends.items())}},
        ),
        ends,
    )


def check_learner(settings: Settings, timeout_s: float) -> Check:
    if settings.bus == "memory":
        return Check("learner", None, "runs inside `streamwise demo`: see the API")
    port = settings.learner.metrics_port
    if not port:
        return Check("learner", None, "metrics port disabled (LEARNER__METRICS_PORT=0)")
    url = f"http://{_local(settings.learner.metrics_host)}:{port}/metrics"
    try:
        status, _ = _http(url, timeout_s)
    except OSError as err:
        return Check("learner", False, f"no learner answers at {url}: {err}")
    return Check("learner", status == 200, f"{url} answered {status}")


def check_api(settings: Settings, timeout_s: float) -> Check:
    url = f"http://{_local(settings.api.host)}:{settings.api.port}/readyz"
    try:
        status, body = _http(url, timeout_s)
    except OSError as err:
        return Check("api", False, f"no API answers at {url}: {err}")
    try:
        ready = json.loads(body)
    except ValueError:
        return Check("api", False, f"{url} answered {status} with something else than JSON")
    store = ready.get("store")
    detail = f"{ready.get('status')} (store {store}), serving {ready.get('models')}"
    if ready.get("detail"):
        detail += f": {ready['detail']}"
    return Check("api", status == 200 and store == "ok", detail, ready)


def describe_served(spec: ModelSpec, served: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """A model as the API serves it (``GET /models``), for stacks whose store is in memory."""
    now = clock.now()
    rolling = served["metrics"].get("rolling") or served["metrics"].get("cumulative", {})
    return {
        "model_id": spec.model_id,
        "ok": True,
        "source": "api",
        "version": served["version"],
        "champion": served.get("champion"),
        "events_learned": served["events_learned"],
        "snapshot_age_s": round(now - served["snapshot_created_at"], 3),
        "freshness_s": (
            round(now - served["last_event_ts"], 3) if served.get("last_event_ts") else None
        ),
        "rolling": rolling,
        "success": {
            name: _meets(name, rolling.get(name), threshold)
            for name, threshold in spec.success.items()
        },
    }


def describe_model(
    spec: ModelSpec,
    store: SnapshotStore | None,
    key: bytes,
    ends: dict[tuple[str, int], int] | None,
    clock: Clock,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"model_id": spec.model_id, "ok": False}
    if store is None:
        entry["detail"] = "unknown: the store cannot be read"
        return entry
    try:
        snap = registry.load(store, key, spec.model_id)
    except StreamwiseError as err:
        entry["detail"] = str(err)
        return entry
    now = clock.now()
    champion = snap.candidates.get(snap.champion)
    values = champion.metric_values if champion is not None else snap.metric_values
    rolling = values.get("rolling") or values.get("cumulative", {})
    success = {
        name: _meets(name, rolling.get(name), threshold) for name, threshold in spec.success.items()
    }
    entry.update(
        ok=True,
        source="store",
        version=snap.version,
        champion=snap.champion,
        events_learned=snap.events_learned,
        snapshot_age_s=round(now - snap.created_at, 3),
        freshness_s=round(now - snap.last_event_ts, 3) if snap.last_event_ts else None,
        rolling=rolling,
        success=success,
    )
    if ends is not None:
        entry["lag"] = sum(max(end - snap.next_offsets.get(tp, 0), 0) for tp, end in ends.items())
    return entry


def _meets(name: str, value: float | None, threshold: float) -> bool | None:
    if value is None:
        return None
    return value <= threshold if name in LOWER_IS_BETTER else value >= threshold


def gather(settings: Settings, clock: Clock, timeout_s: float = 2.0) -> Report:
    """Check bus, store, learner and API, then each configured model."""
    store_check, store = check_store(settings)
    bus_check, ends = check_bus(settings)
    api_check = check_api(settings, timeout_s)
    checks = [bus_check, store_check, check_learner(settings, timeout_s), api_check]
    specs = settings.model_specs()
    if settings.store == "memory":
        models = _models_from_api(settings, specs, clock, timeout_s)
    else:
        try:
            key = settings.snapshot_key()
        except StreamwiseError as err:
            checks.append(Check("settings", False, str(err)))
            key = b""
        models = [describe_model(spec, store, key, ends, clock) for spec in specs]
    if store is not None:
        store.close()
    return Report(checks, models)


def _models_from_api(
    settings: Settings, specs: list[ModelSpec], clock: Clock, timeout_s: float
) -> list[dict[str, Any]]:
    url = f"http://{_local(settings.api.host)}:{settings.api.port}/models"
    try:
        status, body = _http(url, timeout_s)
        served = {m["model_id"]: m for m in json.loads(body)} if status == 200 else {}
    except (OSError, ValueError):
        served = {}
    return [
        describe_served(spec, served[spec.model_id], clock)
        if spec.model_id in served
        else {"model_id": spec.model_id, "ok": False, "detail": f"not served by {url}"}
        for spec in specs
    ]
