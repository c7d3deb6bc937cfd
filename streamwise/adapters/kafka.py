"""The event bus on Apache Kafka, over kafka-python. The only module that imports kafka.

The learner reads by explicit partition assignment and seeks to the offsets in its snapshot:
the snapshot, not the consumer group, is the source of truth. Offsets are still committed to
the group so lag dashboards work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from streamwise.errors import BusError
from streamwise.ports import Offsets, Record
from streamwise.settings import KafkaSettings

log = logging.getLogger(__name__)


def _client_options(settings: KafkaSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "client_id": settings.client_id,
        "request_timeout_ms": settings.request_timeout_ms,
        "security_protocol": settings.security_protocol,
    }
    if settings.sasl_mechanism is not None:
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        if settings.sasl_password is not None:
            options["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    if settings.ssl_cafile is not None:
        options["ssl_cafile"] = str(settings.ssl_cafile)
    return options


class KafkaBus:
    """:class:`streamwise.ports.Bus` on Kafka. Clients are created on first use."""

    def __init__(self, settings: KafkaSettings) -> None:
        self._settings = settings
        self._producer: KafkaProducer | None = None
        self._consumer: KafkaConsumer | None = None
        self._ensured: set[str] = set()
        self._send_errors: list[BaseException] = []

    # -- producing -------------------------------------------------------------------------
    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            s = self._settings
            try:
                self._producer = KafkaProducer(
                    **_client_options(s),
                    acks=s.acks if s.acks == "all" else int(s.acks),
                    linger_ms=s.linger_ms,
                    batch_size=s.batch_size,
                )
            except KafkaError as err:
                raise BusError(
                    f"cannot connect a producer to {s.bootstrap_servers}: {err}"
                ) from err
        return self._producer

    def publish(self, topic: str, key: str, value: bytes) -> None:
        if topic not in self._ensured:
            self.ensure_topics([topic])
        try:
            future = self._get_producer().send(topic, key=key.encode(), value=value)
        except KafkaError as err:
            raise BusError(f"cannot send to {topic!r}: {err}") from err
        future.add_errback(self._send_errors.append)

    def flush(self, timeout_s: float) -> None:
        if self._producer is None:
            return
        try:
            self._producer.flush(timeout=timeout_s)
        except KafkaError as err:
            raise BusError(f"flush did not complete in {timeout_s}s: {err}") from err
        if self._send_errors:
            errors, self._send_errors = self._send_errors, []
            raise BusError(f"{len(errors)} message(s) were not acknowledged; first: {errors[0]!r}")

    def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create missing topics with the configured partition count (existing ones are kept)."""
        s = self._settings
        missing = [t for t in topics if t not in self._ensured]
        if not missing:
            return
        try:
            admin = KafkaAdminClient(**_client_options(s))
        except KafkaError as err:
            raise BusError(f"cannot reach Kafka at {s.bootstrap_servers}: {err}") from err
        try:
            existing = set(admin.list_topics())
            for topic in missing:
                if topic in existing:
                    continue
                try:
                    admin.create_topics(
                        {
                            topic: {
                                "num_partitions": s.partitions,
                                "replication_factor": s.replication_factor,
                            }
                        },
                        wait_for_metadata=True,
                    )
                    log.info("topic created", extra={"topic": topic, "partitions": s.partitions})
                except TopicAlreadyExistsError:
                    pass  # created by another client meanwhile
        except KafkaError as err:
            raise BusError(f"cannot create topics {missing}: {err}") from err
        finally:
            admin.close()
        self._ensured.update(missing)

    # -- consuming -------------------------------------------------------------------------
    def subscribe(self, topics: Sequence[str]) -> None:
        self.ensure_topics(topics)
        s = self._settings
        try:
            consumer = KafkaConsumer(
                **_client_options(s),
                group_id=s.group_id,
                enable_auto_commit=False,  # offsets live in snapshots; commits are advisory
                auto_offset_reset="earliest",
                max_poll_records=s.max_poll_records,
            )
            partitions = [
                TopicPartition(topic, p)
                for topic in topics
                for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
        except KafkaError as err:
            raise BusError(
                f"cannot consume {list(topics)} from {s.bootstrap_servers}: {err}"
            ) from err
        self._consumer = consumer

    def _get_consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            raise BusError("subscribe() must be called before reading")
        return self._consumer

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        try:
            batches = self._get_consumer().poll(
                timeout_ms=int(timeout_s * 1000), max_records=max_records
            )
        except KafkaError as err:
            raise BusError(f"poll failed: {err}") from err
        return [
            Record(
                m.topic,
                m.partition,
                m.offset,
                m.key.decode() if m.key is not None else None,
                m.value,
                m.timestamp,
            )
            for messages in batches.values()
            for m in messages
        ]

    def seek(self, next_offsets: Offsets) -> None:
        consumer = self._get_consumer()
        assigned = consumer.assignment()
        for (topic, partition), offset in next_offsets.items():
            tp = TopicPartition(topic, partition)
            if tp in assigned:
                consumer.seek(tp, offset)

    def commit(self, next_offsets: Offsets) -> None:
        if not next_offsets:
            return
        offsets = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in next_offsets.items()
        }
        try:
            self._get_consumer().commit(offsets)
        except KafkaError as err:
            # Advisory only: resume reads the snapshot, so a failed commit loses nothing.
            log.warning("offset commit failed", extra={"error": repr(err)})

    def end_offsets(self) -> dict[tuple[str, int], int]:
        consumer = self._get_consumer()
        try:
            ends = consumer.end_offsets(list(consumer.assignment()))
        except KafkaError as err:
            raise BusError(f"cannot read end offsets: {err}") from err
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    def offsets_for_time(self, timestamp_ms: int) -> dict[tuple[str, int], int]:
        consumer = self._get_consumer()
        assigned = list(consumer.assignment())
        try:
            found = consumer.offsets_for_times(dict.fromkeys(assigned, timestamp_ms))
            ends = consumer.end_offsets(assigned)
        except KafkaError as err:
            raise BusError(f"cannot look up offsets by time: {err}") from err
        return {
            (tp.topic, tp.partition): (hit.offset if hit is not None else ends[tp])
            for tp, hit in found.items()
        }

    def close(self) -> None:
        try:
            if self._producer is not None:
                self._producer.flush(timeout=30)
                self._producer.close(timeout=5)
        finally:
            if self._consumer is not None:
                self._consumer.close(autocommit=False)
            self._producer = self._consumer = None
