"""The snapshot store on Redis. The only module that imports redis.

Keys, for model ``m`` under prefix ``p``: ``p:m:snapshot:<version>`` (the signed blob),
``p:m:latest`` (the latest version), ``p:m:versions`` (a sorted set of retained versions) and
``p:m:kept`` (versions saved with ``keep``, never pruned: the targets of rollbacks).
A save writes the blob and moves ``latest`` in one MULTI/EXEC under WATCH, so readers see the
old or the new snapshot, never a mix, and a writer whose ``expected_previous`` is stale loses.
"""

from __future__ import annotations

import redis
from redis.exceptions import RedisError, WatchError

from streamwise.errors import SnapshotConflict, StoreError
from streamwise.ports import StoredSnapshot
from streamwise.settings import RedisSettings


class RedisSnapshotStore:
    """:class:`streamwise.ports.SnapshotStore` on Redis."""

    def __init__(self, settings: RedisSettings) -> None:
        self._prefix = settings.key_prefix
        self._keep = settings.keep_versions
        self._client = redis.Redis.from_url(
            settings.url.get_secret_value(),
            socket_timeout=settings.socket_timeout_s,
            socket_connect_timeout=settings.socket_timeout_s,
        )

    def _key(self, model_id: str, *parts: object) -> str:
        return ":".join([self._prefix, model_id, *map(str, parts)])

    def save(
        self,
        model_id: str,
        blob: bytes,
        version: int,
        expected_previous: int | None,
        *,
        keep: bool = False,
    ) -> None:
        latest_key = self._key(model_id, "latest")
        versions_key = self._key(model_id, "versions")
        kept_key = self._key(model_id, "kept")
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.watch(latest_key)
                raw = pipe.get(latest_key)
                current = int(raw) if raw is not None else None
                if current != expected_previous:
                    raise SnapshotConflict(
                        f"snapshot of {model_id!r}: latest is v{current}, expected "
                        f"v{expected_previous}; another learner wrote first"
                    )
                kept = pipe.smembers(kept_key)
                # Retention counts the unkept versions only: kept ones are never pruned.
                prunable = [v for v in pipe.zrange(versions_key, 0, -1) if v not in kept]
                unkept_after = len(prunable) + (0 if keep else 1)
                stale = prunable[: max(unkept_after - self._keep, 0)]
                pipe.multi()
                pipe.set(self._key(model_id, "snapshot", version), blob)
                pipe.zadd(versions_key, {str(version): version})
                pipe.set(latest_key, version)
                if keep:
                    pipe.sadd(kept_key, version)
                for old in stale:
                    pipe.delete(self._key(model_id, "snapshot", old.decode()))
                    pipe.zrem(versions_key, old)
                pipe.execute()
        except WatchError as err:
            raise SnapshotConflict(
                f"snapshot of {model_id!r}: latest moved during save; another learner wrote first"
            ) from err
        except RedisError as err:
            raise StoreError(f"cannot save snapshot v{version} of {model_id!r}: {err}") from err

    def latest_version(self, model_id: str) -> int | None:
        try:
            raw = self._client.get(self._key(model_id, "latest"))
        except RedisError as err:
            raise StoreError(f"cannot read latest version of {model_id!r}: {err}") from err
        return int(raw) if raw is not None else None

    def load(self, model_id: str, version: int | None = None) -> StoredSnapshot | None:
        try:
            if version is None:
                version = self.latest_version(model_id)
                if version is None:
                    return None
            blob = self._client.get(self._key(model_id, "snapshot", version))
        except RedisError as err:
            raise StoreError(f"cannot load snapshot of {model_id!r}: {err}") from err
        return StoredSnapshot(version, blob) if blob is not None else None

    def versions(self, model_id: str) -> list[int]:
        try:
            return [int(v) for v in self._client.zrange(self._key(model_id, "versions"), 0, -1)]
        except RedisError as err:
            raise StoreError(f"cannot list snapshots of {model_id!r}: {err}") from err

    def delete(self, model_id: str) -> None:
        versions_key = self._key(model_id, "versions")
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.watch(versions_key)
                versions = pipe.zrange(versions_key, 0, -1)
                pipe.multi()
                for version in versions:
                    pipe.delete(self._key(model_id, "snapshot", version.decode()))
                pipe.delete(
                    versions_key, self._key(model_id, "latest"), self._key(model_id, "kept")
                )
                pipe.execute()
        except WatchError as err:
            raise SnapshotConflict(f"snapshots of {model_id!r} changed during delete") from err
        except RedisError as err:
            raise StoreError(f"cannot delete snapshots of {model_id!r}: {err}") from err

    def ping(self) -> None:
        try:
            self._client.ping()
        except RedisError as err:
            raise StoreError(f"Redis is unreachable: {err}") from err

    def close(self) -> None:
        self._client.close()
