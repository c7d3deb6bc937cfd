"""The snapshot store goes away and comes back (empty): learning goes on, nothing is lost."""

from __future__ import annotations

from streamwise import snapshot
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.errors import StoreError
from streamwise.ports import StoredSnapshot
from tests.learner.test_loop import CLASSIFIER, KEY, drain, make_learner, publish


class FlakyStore(MemorySnapshotStore):
    """A memory store that can be switched off, and wiped, like a restarted Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StoreError("connection refused")

    def save(self, *args: object, **kwargs: object) -> None:
        self._check()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def latest_version(self, model_id: str) -> int | None:
        self._check()
        return super().latest_version(model_id)

    def load(self, model_id: str, version: int | None = None) -> StoredSnapshot | None:
        self._check()
        return super().load(model_id, version)


def test_learning_goes_on_while_the_store_is_down_and_the_snapshot_is_recreated() -> None:
    broker, store = MemoryBroker(), FlakyStore()
    publish(MemoryBus(broker), "river:Phishing", limit=400)
    learner = make_learner(broker, store, CLASSIFIER, every_events=100)
    drain(learner)
    assert snapshot.decode(store.load("phishing").blob, KEY).events_learned == 400  # type: ignore[union-attr]

    store.down = True
    publish(MemoryBus(broker), "river:Phishing", skip=400)
    drain(learner)  # checkpoints fail: no exception, the models keep learning
    assert learner.slots[0].events_learned == 1250

    store.down = False
    store.delete("phishing")  # it comes back empty, as a Redis without persistence does
    learner.checkpoint()
    saved = snapshot.decode(store.load("phishing").blob, KEY)  # type: ignore[union-attr]
    assert saved.events_learned == 1250  # the history was re-created from memory

    reference = MemoryBroker()
    publish(MemoryBus(reference), "river:Phishing")
    uninterrupted = make_learner(reference, MemorySnapshotStore(), CLASSIFIER)
    drain(uninterrupted)
    assert saved.metric_values == uninterrupted.slots[0].board.values()
