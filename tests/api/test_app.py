"""The API over the memory store: readiness, predictions with versions, hot swap, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from ingest import replay
from learner.loop import ModelSlot
from streamwise import snapshot
from streamwise.adapters.memory import MemorySnapshotStore
from streamwise.clock import FakeClock
from streamwise.events import Reading
from streamwise.spec import ModelSpec

KEY = b"a" * 32
CLASSIFIER = ModelSpec.example(model_id="phishing", target="y", metrics=["Accuracy", "LogLoss"])
REGRESSOR = ModelSpec.example(
    model_id="trump",
    task="regression",
    target="y",
    pipeline=[{"name": "StandardScaler"}, {"name": "LinearRegression"}],
    metrics=["MAE"],
)


def train_and_save(
    store: MemorySnapshotStore,
    spec: ModelSpec,
    dataset: str,
    n: int,
    version: int,
    key: bytes = KEY,
) -> ModelSlot:
    slot = ModelSlot.fresh(spec)
    for reading in replay.readings(dataset, limit=n):
        slot.observe(reading)
    previous = store.latest_version(spec.model_id)
    store.save(
        spec.model_id, snapshot.encode(slot.to_snapshot(version, 0.0), key), version, previous
    )
    return slot


@pytest.fixture
def store() -> MemorySnapshotStore:
    return MemorySnapshotStore()


@pytest.fixture
def client(store: MemorySnapshotStore) -> Iterator[TestClient]:
    app = create_app(
        [CLASSIFIER, REGRESSOR],
        store,
        KEY,
        FakeClock(1.7e9),
        registry=CollectorRegistry(),
        reload_interval_s=3600,
        max_batch=5,
    )
    with TestClient(app) as test_client:
        yield test_client


def refresh(client: TestClient) -> None:
    client.app.state.served.refresh()  # type: ignore[attr-defined]


def phishing_values() -> dict[str, object]:
    return dict(next(replay.readings("river:Phishing")).values)


def test_not_ready_until_every_model_has_a_snapshot(
    client: TestClient, store: MemorySnapshotStore
) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    response = client.get("/readyz")
    assert response.status_code == 503 and "phishing" in response.json()["detail"]
    assert client.post("/predict", json={"values": {"a": 1.0}}).status_code == 503
    train_and_save(store, CLASSIFIER, "river:Phishing", 100, 1)
    train_and_save(store, REGRESSOR, "river:TrumpApproval", 100, 1)
    refresh(client)
    ready = client.get("/readyz").json()
    assert ready == {
        "status": "ready",
        "models": {"phishing": 1, "trump": 1},
        "store": "ok",
        "detail": None,
    }


def test_predictions_match_the_snapshot_model_and_name_its_version(
    client: TestClient, store: MemorySnapshotStore
) -> None:
    slot = train_and_save(store, CLASSIFIER, "river:Phishing", 300, 1)
    train_and_save(store, REGRESSOR, "river:TrumpApproval", 300, 1)
    refresh(client)
    values = phishing_values()
    body = client.post("/predict", json={"values": values}).json()
    expected = slot.model.predict_proba_one(values)
    assert body["model_id"] == "phishing" and body["model_version"] == 1
    assert body["probabilities"] == {str(k): v for k, v in expected.items()}
    assert body["prediction"] == max(expected, key=expected.get)

    batch = client.post(
        "/predict/batch?model=trump", json={"items": [{"values": {"ordinal_date": 736389.0}}] * 3}
    ).json()
    assert batch["model_version"] == 1 and len(batch["predictions"]) == 3


def test_newer_snapshot_is_swapped_in(client: TestClient, store: MemorySnapshotStore) -> None:
    train_and_save(store, CLASSIFIER, "river:Phishing", 100, 1)
    refresh(client)
    assert client.get("/model").json()["events_learned"] == 100
    train_and_save(store, CLASSIFIER, "river:Phishing", 200, 2)
    refresh(client)
    info = client.get("/model?model=phishing").json()
    assert (info["version"], info["events_learned"]) == (2, 200)
    assert set(info["metrics"]) == {"cumulative", "rolling"}


def test_snapshot_signed_with_another_key_is_refused_and_current_kept(
    client: TestClient, store: MemorySnapshotStore
) -> None:
    train_and_save(store, CLASSIFIER, "river:Phishing", 100, 1)
    refresh(client)
    train_and_save(store, CLASSIFIER, "river:Phishing", 200, 2, key=b"x" * 32)
    refresh(client)
    assert client.get("/model").json()["version"] == 1
    metrics = client.get("/metrics").text
    assert 'streamwise_api_snapshot_loads_total{model="phishing",outcome="rejected"} 1.0' in metrics


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/predict?model=nope", {"values": {"a": 1.0}}, 404),
        ("/predict", {"values": {}}, 422),
        ("/predict", {"values": {"a": "warm"}}, 422),
        ("/predict", {"vals": {"a": 1}}, 422),
        ("/predict/batch", {"items": [{"values": {"a": 1.0}}] * 6}, 413),
        ("/predict/batch", {"items": []}, 422),
    ],
)
def test_bad_requests_get_clear_4xx(
    client: TestClient, store: MemorySnapshotStore, path: str, body: dict[str, object], status: int
) -> None:
    train_and_save(store, CLASSIFIER, "river:Phishing", 10, 1)
    refresh(client)
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.json()


def test_non_finite_numbers_are_refused(client: TestClient, store: MemorySnapshotStore) -> None:
    train_and_save(store, CLASSIFIER, "river:Phishing", 10, 1)
    refresh(client)
    response = client.post(
        "/predict", content=b'{"values": {"a": NaN}}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_metrics_expose_served_models_and_request_counts(
    client: TestClient, store: MemorySnapshotStore
) -> None:
    train_and_save(store, CLASSIFIER, "river:Phishing", 100, 1)
    refresh(client)
    client.post("/predict", json={"values": phishing_values()})
    text = client.get("/metrics").text
    assert 'streamwise_served_model_version{model="phishing"} 1.0' in text
    assert 'streamwise_served_model_events_learned{model="phishing"} 100.0' in text
    assert (
        'streamwise_served_model_metric{metric="Accuracy",model="phishing",window="cumulative"}'
        in text
    )
    assert 'streamwise_api_predictions_total{model="phishing"} 1.0' in text


def test_openapi_documents_every_route_with_stable_ids(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation_ids = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {
        "predict",
        "predict_batch",
        "get_model",
        "list_models",
        "healthz",
        "readyz",
        "metrics",
    } <= operation_ids


def test_after_a_reset_the_restarted_version_history_is_served(
    client: TestClient, store: MemorySnapshotStore
) -> None:
    for version in (1, 2, 3):
        train_and_save(store, CLASSIFIER, "river:Phishing", 50 * version, version)
    refresh(client)
    assert client.get("/model").json()["version"] == 3
    store.delete("phishing")
    train_and_save(store, CLASSIFIER, "river:Phishing", 20, 1)
    refresh(client)
    info = client.get("/model").json()
    assert (info["version"], info["events_learned"]) == (1, 20)


def test_profile_is_served_from_the_snapshot(
    client: TestClient, store: MemorySnapshotStore
) -> None:
    from learner.loop import Learner
    from streamwise.adapters.memory import MemoryBroker, MemoryBus
    from streamwise.settings import TopicSettings

    broker = MemoryBroker()
    bus = MemoryBus(broker)
    for reading in replay.readings("river:Phishing", limit=30):
        bus.publish("r", reading.device_id, reading.encode())
    bus.publish("r", "x", b"not json")
    bus.flush(1.0)
    learner = Learner(
        [CLASSIFIER, REGRESSOR],
        MemoryBus(broker),
        store,
        KEY,
        topics=TopicSettings(readings="r"),
        clock=FakeClock(1.9e9),
        poll_timeout_s=0.0,
    )
    learner.start()
    while learner.step():
        pass
    learner.checkpoint()
    refresh(client)
    profile = client.get("/profile").json()
    assert profile["readings"] == 30 and profile["rejected"] == {"schema": 1}
    assert profile["counts"] == {"consumed": 31, "accepted": 30, "duplicate": 0}
    assert profile["sensors"]["age_of_domain"]["count"] == 30
    assert client.get("/profile?model=nope").status_code == 404


def test_predictions_use_the_snapshot_per_device_features(store: MemorySnapshotStore) -> None:
    import datetime as dt

    from ingest.simulator import Fleet
    from streamwise.events import Reading
    from streamwise.spec import BUNDLED_SPECS

    spec = ModelSpec.from_toml(BUNDLED_SPECS / "fault-detector.toml")
    slot = ModelSlot.fresh(spec)
    fleet, start = Fleet(3, seed=1), dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    for t in range(100):
        for reading in fleet.tick(start + dt.timedelta(minutes=t)):
            slot.observe(reading)
    store.save(spec.model_id, snapshot.encode(slot.to_snapshot(1, 0.0), KEY), 1, None)
    app = create_app([spec], store, KEY, FakeClock(1.9e9), registry=CollectorRegistry())
    values = {"temp_c": 25.0, "humidity_pct": 45.0, "vibration_mm_s": 6.0, "power_w": 250.0}
    ts = start + dt.timedelta(minutes=100)
    with TestClient(app) as test_client:
        body = test_client.post(
            "/predict", json={"device_id": "dev-0001", "ts": ts.isoformat(), "values": values}
        ).json()
    x = slot.preparer.prepare(Reading(event_id="api", device_id="dev-0001", ts=ts, values=values)).x
    assert "vibration_mm_s_mean_5" in x
    expected = slot.model.predict_proba_one(x)
    assert body["probabilities"] == {str(k): v for k, v in expected.items()}
    with TestClient(app) as test_client:  # quiet devices are listed per model
        silent = test_client.get("/devices/silent").json()
    assert silent["silence_seconds"] == 300 and silent["devices"] == {}


def test_requests_are_converted_and_range_checked_like_the_stream(
    store: MemorySnapshotStore,
) -> None:
    from streamwise.quality import SensorCatalog

    spec = ModelSpec.example(
        model_id="temps",
        features=["temp_c"],
        task="regression",
        target="y",
        pipeline=[{"name": "LinearRegression"}],
        metrics=["MAE"],
    )
    slot = ModelSlot.fresh(spec)
    for i in range(50):
        slot.observe(
            Reading.example(event_id=f"e{i}", values={"temp_c": float(i)}, labels={"y": 2.0 * i})
        )
    store.save("temps", snapshot.encode(slot.to_snapshot(1, 0.0), KEY), 1, None)
    catalog = SensorCatalog(sensors={"temp_c": {"unit": "Cel", "min": -60, "max": 150}})
    app = create_app(
        [spec], store, KEY, FakeClock(1.9e9), registry=CollectorRegistry(), catalog=catalog
    )
    with TestClient(app) as test_client:
        celsius = test_client.post("/predict", json={"values": {"temp_c": 100.0}}).json()
        fahrenheit = test_client.post(
            "/predict", json={"values": {"temp_c": 212.0}, "units": {"temp_c": "degF"}}
        ).json()
        too_hot = test_client.post("/predict", json={"values": {"temp_c": 900.0}})
    assert fahrenheit["prediction"] == pytest.approx(celsius["prediction"])
    assert too_hot.status_code == 422 and "outside" in too_hot.json()["detail"]


def test_anomaly_detector_answers_with_its_flag_and_score() -> None:
    spec = ModelSpec.example(
        model_id="spikes",
        task="anomaly",
        target="y",
        pipeline=[{"name": "MinMaxScaler"}, {"name": "HalfSpaceTrees", "params": {"seed": 1}}],
        metrics=["ROCAUC", "Recall"],
        threshold=0.5,
    )
    store = MemorySnapshotStore()
    slot = train_and_save(store, spec, "river:Phishing", 300, version=1)
    app = create_app([spec], store, KEY, FakeClock(1.7e9), registry=CollectorRegistry())
    values = phishing_values()
    with TestClient(app) as client:
        body = client.post("/predict", json={"values": values}).json()
    score = slot.model.score_one(values)
    assert body["score"] == score and body["prediction"] is (score >= 0.5)
    assert body["probabilities"] is None


def test_forecaster_answers_get_forecast_and_refuses_predict() -> None:
    spec = ModelSpec.example(
        model_id="passengers",
        task="forecast",
        target="y",
        pipeline=[{"name": "HoltWinters", "params": {"alpha": 0.3, "beta": 0.1}}],
        metrics=["MAE"],
        forecast={"horizon": 4},
    )
    store = MemorySnapshotStore()
    slot = train_and_save(store, spec, "river:AirlinePassengers", 60, version=1)
    app = create_app([spec], store, KEY, FakeClock(1.7e9), registry=CollectorRegistry())
    with TestClient(app) as client:
        body = client.get("/forecast").json()
        refused = client.post("/predict", json={"values": {"y": 1.0}})
        info = client.get("/model").json()
    assert body["forecast"] == slot.model.forecast(4) and body["horizon"] == 4
    assert refused.status_code == 422 and "GET /forecast" in refused.json()["detail"]
    assert set(info["metrics"]["cumulative"]) == {"MAE", "MAE@1", "MAE@2", "MAE@3", "MAE@4"}
