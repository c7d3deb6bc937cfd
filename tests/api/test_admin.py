"""Registry and operator endpoints: versions, promote, rollback (commands to the learner)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from learner.loop import Learner
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.clock import FakeClock
from streamwise.feedback import Outbox
from tests.learner.test_lifecycle import FLIP_SPEC, flip_stream, send
from tests.learner.test_loop import KEY, NOW, TOPICS, drain, make_learner


@pytest.fixture
def stack() -> Iterator[tuple[TestClient, Learner, MemorySnapshotStore]]:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    send(broker, *flip_stream(300, 0))
    learner = make_learner(broker, store, FLIP_SPEC)
    drain(learner)
    app = create_app(
        [FLIP_SPEC],
        store,
        KEY,
        FakeClock(NOW),
        registry=CollectorRegistry(),
        reload_interval_s=3600,
        outbox=Outbox(MemoryBus(broker), TOPICS),
    )
    with TestClient(app) as client:
        yield client, learner, store


def _refresh(client: TestClient) -> None:
    client.app.state.served.refresh()  # type: ignore[attr-defined]


def test_models_show_champion_candidates_and_lineage(stack: tuple) -> None:
    client, learner, _ = stack
    (info,) = client.get("/models").json()
    assert info["champion"] == "slow"
    assert set(info["candidates"]) == {"slow", "fast"}
    assert info["candidates"]["slow"]["champion"] is True
    assert info["candidates"]["fast"]["events_learned"] == 300
    want = learner.slots[0].candidates["fast"].board.values()
    assert info["candidates"]["fast"]["metrics"] == want
    assert info["selection"] == {
        "metric": "Accuracy",
        "margin": 0.05,
        "min_events": 100,
        "auto": True,
    }
    assert info["lineage"]["parent"] == info["version"] - 1


def test_promote_then_rollback_through_the_api(stack: tuple) -> None:
    client, learner, store = stack
    answer = client.post("/admin/models/flip/promote", json={"candidate": "fast"})
    assert answer.status_code == 202, answer.text
    request_id = answer.json()["request_id"]
    drain(learner)
    _refresh(client)
    info = client.get("/model", params={"model": "flip"}).json()
    assert info["champion"] == "fast"
    assert info["lifecycle"][-1]["request_id"] == request_id
    before = info["lifecycle"][-1]["previous_version"]
    assert before in client.get("/models/flip/versions").json()["versions"]

    assert client.post("/admin/models/flip/rollback", json={}).status_code == 202
    drain(learner)
    _refresh(client)
    info = client.get("/model").json()
    assert (info["champion"], info["lifecycle"][-1]["to_version"]) == ("slow", before)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/admin/models/flip/promote", {"candidate": "nope"}, 404),
        ("/admin/models/nope/promote", {"candidate": "fast"}, 404),
        ("/admin/models/flip/promote", {}, 422),
        ("/admin/models/flip/promote", {"candidate": "fast", "extra": 1}, 422),
        ("/admin/models/flip/rollback", {"to_version": 9999}, 404),
        ("/admin/models/flip/rollback", {"to_version": 0}, 422),
    ],
)
def test_bad_commands_are_refused_before_reaching_the_learner(
    stack: tuple, path: str, body: dict, status: int
) -> None:
    client, learner, store = stack
    version = store.latest_version("flip")
    answer = client.post(path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]
    drain(learner)
    assert store.latest_version("flip") == version  # nothing was sent, nothing changed


def test_without_a_bus_commands_get_503() -> None:
    app = create_app(
        [FLIP_SPEC], MemorySnapshotStore(), KEY, FakeClock(NOW), registry=CollectorRegistry()
    )
    with TestClient(app) as client:
        answer = client.post("/admin/models/flip/promote", json={"candidate": "fast"})
    assert answer.status_code == 503
    assert "no bus" in answer.json()["detail"]


def test_unknown_model_versions_is_404(stack: tuple) -> None:
    client, _, _ = stack
    assert client.get("/models/nope/versions").status_code == 404
