"""One suite for the SnapshotStore port, run on every adapter (memory, and Redis as integration)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streamwise.adapters.memory import MemorySnapshotStore
from streamwise.errors import SnapshotConflict
from streamwise.ports import SnapshotStore
from streamwise.settings import RedisSettings
from tests.conftest import Services


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> Iterator[SnapshotStore]:
    if request.param == "memory":
        made: SnapshotStore = MemorySnapshotStore(keep_versions=3)
    else:
        from streamwise.adapters.redis import RedisSnapshotStore

        services: Services = request.getfixturevalue("services")
        made = RedisSnapshotStore(
            RedisSettings(
                url=services.redis.url, key_prefix=services.redis.key_prefix, keep_versions=3
            )
        )
    yield made
    made.close()


def test_empty_store_has_nothing(store: SnapshotStore) -> None:
    store.ping()
    assert store.latest_version("m") is None
    assert store.load("m") is None
    assert store.versions("m") == []


def test_save_moves_latest_and_keeps_older_versions(store: SnapshotStore) -> None:
    store.save("m", b"one", version=1, expected_previous=None)
    store.save("m", b"two", version=2, expected_previous=1)
    assert store.latest_version("m") == 2
    latest = store.load("m")
    assert latest is not None and (latest.version, latest.blob) == (2, b"two")
    older = store.load("m", 1)
    assert older is not None and older.blob == b"one"
    assert store.latest_version("other") is None


def test_stale_writer_is_refused_and_changes_nothing(store: SnapshotStore) -> None:
    store.save("m", b"one", version=1, expected_previous=None)
    store.save("m", b"two", version=2, expected_previous=1)
    with pytest.raises(SnapshotConflict):
        store.save("m", b"zombie", version=2, expected_previous=1)
    with pytest.raises(SnapshotConflict):
        store.save("m", b"zombie", version=1, expected_previous=None)
    latest = store.load("m")
    assert latest is not None and latest.blob == b"two"


def test_only_the_newest_versions_are_retained(store: SnapshotStore) -> None:
    previous = None
    for version in range(1, 7):
        store.save("m", f"v{version}".encode(), version=version, expected_previous=previous)
        previous = version
    assert store.versions("m") == [4, 5, 6]
    assert store.load("m", 1) is None


def test_kept_versions_survive_pruning_until_delete(store: SnapshotStore) -> None:
    store.save("m", b"v1", version=1, expected_previous=None)
    store.save("m", b"v2", version=2, expected_previous=1, keep=True)  # a rollback target
    for version in range(3, 9):
        store.save("m", f"v{version}".encode(), version=version, expected_previous=version - 1)
    assert store.versions("m") == [2, 6, 7, 8]  # the kept one plus the newest three
    kept = store.load("m", 2)
    assert kept is not None and kept.blob == b"v2"
    store.delete("m")
    store.save("m", b"again", version=1, expected_previous=None)
    for version in range(2, 6):
        store.save("m", b"x", version=version, expected_previous=version - 1)
    assert store.versions("m") == [3, 4, 5]  # nothing kept from before the delete


def test_delete_forgets_every_version_and_allows_a_fresh_start(store: SnapshotStore) -> None:
    store.save("m", b"one", version=1, expected_previous=None)
    store.save("m", b"two", version=2, expected_previous=1)
    store.save("other", b"x", version=1, expected_previous=None)
    store.delete("m")
    assert (store.latest_version("m"), store.load("m"), store.versions("m")) == (None, None, [])
    assert store.latest_version("other") == 1
    store.save("m", b"again", version=1, expected_previous=None)
    assert store.latest_version("m") == 1
