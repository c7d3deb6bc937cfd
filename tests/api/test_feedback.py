"""/predict ids and POST /feedback: the label reaches the learner, which scores and learns."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from learner.loop import Learner
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.clock import FakeClock
from streamwise.feedback import Outbox, PredictionIds
from streamwise.spec import ModelSpec
from tests.learner.test_loop import KEY, TOPICS, drain, make_learner

NOW = 1.9e9
CLASSIFIER = ModelSpec.example(
    model_id="faults",
    target="fault",
    metrics=["Accuracy", "LogLoss"],
    delayed_labels={"ttl_seconds": 600},
)
REGRESSOR = ModelSpec.example(
    model_id="power",
    task="regression",
    target="power_w",
    pipeline=[{"name": "LinearRegression"}],
    metrics=["MAE"],
    delayed_labels={"ttl_seconds": 600},
)
PLAIN = ModelSpec.example(model_id="plain", target="fault", metrics=["Accuracy"])
READING = {"device_id": "dev-1", "values": {"temp_c": 30.0, "vibration_mm_s": 7.0}}


@pytest.fixture
def stack() -> Iterator[tuple[TestClient, Learner, FakeClock]]:
    broker, store, clock = MemoryBroker(partitions=1), MemorySnapshotStore(), FakeClock(NOW)
    learner = make_learner(broker, store, CLASSIFIER, REGRESSOR, PLAIN, every_events=1, clock=clock)
    app = create_app(
        [CLASSIFIER, REGRESSOR, PLAIN],
        store,
        KEY,
        clock,
        registry=CollectorRegistry(),
        reload_interval_s=3600,
        outbox=Outbox(MemoryBus(broker), TOPICS),
    )
    with TestClient(app) as client:
        yield client, learner, clock


def _settle(client: TestClient, learner: Learner) -> None:
    client.app.state.outbox.flush()  # type: ignore[attr-defined]
    drain(learner)


def test_feedback_is_scored_against_the_prediction_then_learned(stack: tuple) -> None:
    client, learner, _ = stack
    answer = client.post("/predict", params={"model": "faults"}, json=READING).json()
    prediction_id = answer["prediction_id"]
    assert prediction_id and prediction_id.startswith("faults.")
    _settle(client, learner)
    slot = next(s for s in learner.slots if s.spec.model_id == "faults")
    assert list(slot.pending or {}) == [prediction_id]
    assert slot.events_learned == 0

    sent = client.post("/feedback", json={"prediction_id": prediction_id, "value": True})
    assert sent.status_code == 202, sent.text
    assert sent.json()["model_id"] == "faults"
    _settle(client, learner)
    assert slot.events_learned == 1 and slot.pending == {}
    assert slot.counts == {"labels:matched": 1}
    # The untrained model said nothing better than 50/50: scored as River would score it.
    assert slot.board.values()["cumulative"]["LogLoss"] == pytest.approx(0.6931471805599453)
    other = next(s for s in learner.slots if s.spec.model_id == "power")
    assert other.events_learned == 0  # a label for faults is not power's

    again = client.post("/feedback", json={"prediction_id": prediction_id, "value": False})
    assert again.status_code == 202  # the API cannot know; the learner counts it as unknown
    _settle(client, learner)
    assert slot.counts == {"labels:matched": 1, "labels:unknown": 1}
    assert slot.events_learned == 1


def test_batch_predictions_each_get_an_id_and_plain_models_none(stack: tuple) -> None:
    client, _, _ = stack
    batch = client.post("/predict/batch", params={"model": "power"}, json={"items": [READING] * 3})
    ids = [p["prediction_id"] for p in batch.json()["predictions"]]
    assert len(set(ids)) == 3 and all(i.startswith("power.") for i in ids)
    plain = client.post("/predict", params={"model": "plain"}, json=READING).json()
    assert plain["prediction_id"] is None


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"prediction_id": "faults.1.2.3", "value": True}, 404, "was not issued here"),
        ({"prediction_id": "nonsense", "value": True}, 404, "was not issued here"),
        ({"prediction_id": "x", "value": True, "extra": 1}, 422, "extra"),
        ({"prediction_id": "x"}, 422, "value"),
    ],
)
def test_bad_feedback_gets_a_clear_error_and_changes_nothing(
    stack: tuple, body: dict, status: int, words: str
) -> None:
    client, learner, _ = stack
    answer = client.post("/feedback", json=body)
    assert answer.status_code == status and words in answer.text
    _settle(client, learner)
    assert all(s.events_learned == 0 and not s.counts for s in learner.slots)


def test_expired_feedback_is_410_and_forged_ids_404(stack: tuple) -> None:
    client, learner, clock = stack
    prediction_id = client.post("/predict", params={"model": "faults"}, json=READING).json()[
        "prediction_id"
    ]
    clock.advance(601)
    late = client.post("/feedback", json={"prediction_id": prediction_id, "value": True})
    assert late.status_code == 410 and "waits 600 s" in late.json()["detail"]
    forged = PredictionIds(b"another key" * 3).issue("faults", NOW)
    assert client.post("/feedback", json={"prediction_id": forged, "value": 1}).status_code == 404
    _settle(client, learner)
    assert all(s.events_learned == 0 for s in learner.slots)


def test_regression_feedback_must_be_a_number(stack: tuple) -> None:
    client, _, _ = stack
    prediction_id = client.post("/predict", params={"model": "power"}, json=READING).json()[
        "prediction_id"
    ]
    answer = client.post("/feedback", json={"prediction_id": prediction_id, "value": "high"})
    assert answer.status_code == 422 and "learns numbers" in answer.text


def test_without_a_bus_feedback_is_503() -> None:
    app = create_app([CLASSIFIER], MemorySnapshotStore(), KEY, FakeClock(NOW))
    token = PredictionIds(KEY).issue("faults", NOW)
    with TestClient(app) as client:
        answer = client.post("/feedback", json={"prediction_id": token, "value": True})
    assert answer.status_code == 503
