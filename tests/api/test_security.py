"""API keys: who may predict, send feedback and use the admin endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from api.app import create_app
from api.security import ApiKeys
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.clock import FakeClock
from streamwise.feedback import Outbox
from tests.api.test_app import CLASSIFIER, KEY, phishing_values, train_and_save
from tests.learner.test_loop import TOPICS

CLIENT, ADMIN = "client-key-0123456789", "admin-key-0123456789"


def make_client(keys: ApiKeys) -> TestClient:
    store = MemorySnapshotStore()
    train_and_save(store, CLASSIFIER, "river:Phishing", 50, version=1)
    app = create_app(
        [CLASSIFIER],
        store,
        KEY,
        FakeClock(1.7e9),
        registry=CollectorRegistry(),
        outbox=Outbox(MemoryBus(MemoryBroker()), TOPICS),
        api_keys=keys,
    )
    return TestClient(app)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client(ApiKeys([CLIENT], [ADMIN])) as test_client:
        yield test_client


def predict(client: TestClient, key: str | None) -> int:
    headers = {"X-API-Key": key} if key is not None else {}
    return client.post("/predict", json={"values": phishing_values()}, headers=headers).status_code


def promote(client: TestClient, key: str | None) -> int:
    headers = {"X-API-Key": key} if key is not None else {}
    answer = client.post(
        "/admin/models/phishing/promote", json={"candidate": "main"}, headers=headers
    )
    return answer.status_code


def test_predictions_need_a_key_and_admin_needs_an_admin_key(client: TestClient) -> None:
    assert predict(client, None) == 401
    assert predict(client, "wrong") == 401
    assert predict(client, CLIENT) == 200
    assert predict(client, ADMIN) == 200  # an admin key also predicts
    assert promote(client, None) == 401
    assert promote(client, CLIENT) == 401
    assert promote(client, ADMIN) == 202
    answer = client.post("/feedback", json={"prediction_id": "x", "value": True})
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "Unauthorized",
        "detail": "this endpoint needs an API key in X-API-Key",
    }


def test_reading_endpoints_stay_open(client: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/models", "/model", "/metrics", "/dashboard"):
        assert client.get(path).status_code == 200, path


def test_public_predictions_and_open_defaults() -> None:
    with make_client(ApiKeys([CLIENT], [ADMIN], public_predictions=True)) as client:
        assert predict(client, None) == 200
        assert client.post("/feedback", json={"prediction_id": "x", "value": 1}).status_code == 401
        assert promote(client, None) == 401
    with make_client(ApiKeys([], [])) as client:  # nothing configured: open (loopback default)
        assert predict(client, None) == 200 and promote(client, None) == 202


def test_the_schema_declares_the_key() -> None:
    with make_client(ApiKeys([CLIENT], [ADMIN])) as client:
        schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert schema["paths"]["/predict"]["post"]["security"] == [{"APIKeyHeader": []}]
    assert "security" not in schema["paths"]["/models"]["get"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=64))
def test_no_other_string_opens_it(guess: str) -> None:
    keys = ApiKeys([CLIENT], [ADMIN])
    for admin in (False, True):
        allowed = {ADMIN} if admin else {CLIENT, ADMIN}
        try:
            keys.check(guess, admin=admin)
        except Exception:
            assert guess not in allowed
        else:
            assert guess in allowed


def test_prediction_ids_with_any_characters_are_just_unknown() -> None:
    from streamwise.feedback import PredictionIds

    ids = PredictionIds(KEY)
    assert ids.verify("faults.1.2.é") is None
    assert ids.verify("\udcff.1.2.3") is None
