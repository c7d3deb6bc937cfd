"""The learner: for each record, predict, score, then learn; snapshot with the offsets covered.

One learner trains every model of its specs on one pass over the stream, so each record is
decoded and validated once. Each model keeps its own ``next_offsets``: after a crash between
two models' snapshots, the one that is ahead skips what it already learned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from learner.checkpoint import CheckpointPolicy
from learner.clean import Duplicate, StreamGate, dead_letter
from learner.profile import StreamProfile
from learner.slot import ModelSlot
from streamwise import snapshot
from streamwise.clock import Clock
from streamwise.errors import (
    InvalidEvent,
    OffsetsOutOfRange,
    SnapshotConflict,
    StoreError,
    StreamwiseError,
)
from streamwise.events import (
    Command,
    EventT,
    Label,
    ServedPrediction,
    decode_command,
    decode_label,
    decode_served_prediction,
)
from streamwise.ports import Bus, Record, SnapshotStore
from streamwise.quality import SensorCatalog
from streamwise.settings import QualitySettings, TopicSettings
from streamwise.spec import ModelSpec
from streamwise.telemetry import LearnerMetrics

log = logging.getLogger(__name__)

__all__ = ["Learner", "ModelSlot", "StartAt"]


@dataclass(frozen=True)
class StartAt:
    """Where a model without a snapshot starts reading (default: the beginning of the topic).

    A backfill: a new model learns from a chosen point of the retained topic and then keeps up
    with it, while the models already running go on from their own snapshots.
    """

    time_ms: int | None = None
    offset: int | None = None
    end: bool = False

    def offsets(self, bus: Bus, topic: str) -> dict[tuple[str, int], int]:
        ends = {tp: o for tp, o in bus.end_offsets().items() if tp[0] == topic}
        if self.end:
            return ends
        if self.time_ms is not None:
            found = bus.offsets_for_time(self.time_ms)
            return {tp: found.get(tp, end) for tp, end in ends.items()}
        if self.offset is not None:
            return {tp: min(self.offset, end) for tp, end in ends.items()}
        return {}


class Learner:
    """Consumes readings, trains every spec's model, and snapshots them with their offsets.

    Parameters
    ----------
    specs
        The models to train, each with a distinct ``model_id``.
    bus
        Where readings come from and dead letters go.
    store
        Where signed snapshots are saved and restored from.
    key
        HMAC key that signs snapshots.
    """

    def __init__(
        self,
        specs: Sequence[ModelSpec],
        bus: Bus,
        store: SnapshotStore,
        key: bytes,
        *,
        topics: TopicSettings,
        clock: Clock,
        every_events: int = 5000,
        every_seconds: float = 5.0,
        max_poll_records: int = 2000,
        poll_timeout_s: float = 0.5,
        metrics: LearnerMetrics | None = None,
        quality: QualitySettings | None = None,
        catalog: SensorCatalog | None = None,
        start_at: StartAt | None = None,
    ) -> None:
        self._specs = list(specs)
        self._start_at = start_at
        self._quality = quality if quality is not None else QualitySettings()
        self._catalog = catalog if catalog is not None else self._quality.catalog()
        self.gate = StreamGate(self._quality, self._catalog)
        self.profile = StreamProfile(self._quality.max_profiled_sensors)
        self.position: dict[tuple[str, int], int] = {}
        self._bus = bus
        self._store = store
        self._key = key
        self._topics = topics
        self._clock = clock
        self._policy = CheckpointPolicy(every_events, every_seconds, clock)
        self._max_poll_records = max_poll_records
        self._poll_timeout_s = poll_timeout_s
        self._metrics = metrics
        self.slots: list[ModelSlot] = []
        self._model_ids = {spec.model_id for spec in self._specs}
        self._since_checkpoint = 0
        self._store_down = False
        #: Partitions rewound to a command that must wait (store down), for this batch.
        self._rewound: set[tuple[str, int]] = set()
        self._exported: dict[tuple[str, tuple[str, ...]], int] = {}
        self._dlq_counters: dict[str, Any] = {}

    def start(self) -> None:
        """Restore each model from its latest snapshot, then seek the bus to where they stopped."""
        self.slots = []
        restored: list[snapshot.Snapshot] = []
        for spec in self._specs:
            stored = self._store.load(spec.model_id)
            if stored is None:
                slot = ModelSlot.fresh(spec)
                log.info("starting untrained model", extra={"model_id": spec.model_id})
            else:
                snap = snapshot.decode(stored.blob, self._key)
                restored.append(snap)
                slot = ModelSlot.restore(spec, snap)
                log.info(
                    "restored model",
                    extra={
                        "model_id": spec.model_id,
                        "version": slot.version,
                        "events_learned": slot.events_learned,
                        "next_offsets": _offsets_repr(slot.next_offsets),
                    },
                )
            self.slots.append(slot)
        topics = [self._topics.readings, self._topics.control]
        if any(spec.delayed_labels is not None for spec in self._specs):
            topics += [self._topics.labels, self._topics.predictions]
        self._bus.subscribe(topics)
        ends = self._bus.end_offsets()
        for slot in self.slots:
            # Offsets of a topic no longer read (no spec has delayed labels any more) are moot.
            for tp in [tp for tp in slot.next_offsets if tp[0] not in topics]:
                del slot.next_offsets[tp]
        fresh = [slot for slot in self.slots if slot.version is None]
        for slot in fresh:
            # Commands are for models that exist: a new (or reset) one skips past ones.
            slot.next_offsets.update({tp: o for tp, o in ends.items() if tp[0] == topics[1]})
        if fresh and self._start_at is not None:
            begin = self._start_at.offsets(self._bus, self._topics.readings)
            for slot in fresh:
                slot.next_offsets.update(begin)
            log.info(
                "new models start mid-topic",
                extra={"models": [s.spec.model_id for s in fresh], "at": _offsets_repr(begin)},
            )
        resume = self._resume_offsets()
        self._check_offsets_exist(resume)
        self._restore_stream(resume, restored)
        # Counters count this process's work, not what restored snapshots had already learned.
        self._exported = self._counter_totals()
        self._bus.seek(resume)
        if any(slot.version is None for slot in self.slots):
            # The API is ready only once a model exists; publish the untrained one right away.
            self.checkpoint()
        promoting = [slot for slot in self.slots if slot.promotion is not None]
        if promoting:  # decided just before a crash: applied where it was decided
            self._promote(promoting)

    def _check_offsets_exist(self, resume: dict[tuple[str, int], int]) -> None:
        # A snapshot past the end of its partition means the topic was deleted and recreated
        # (or truncated): resuming would silently skip every new record below the old offsets.
        ends = self._bus.end_offsets()
        settings_of = {
            getattr(self._topics, name): f"STREAMWISE_TOPICS__{name.upper()}"
            for name in type(self._topics).model_fields
        }
        beyond = {
            tp: (offset, ends.get(tp, 0))
            for tp, offset in resume.items()
            if offset > ends.get(tp, 0)
        }
        if beyond:
            (topic, partition), (offset, end) = sorted(beyond.items())[0]
            raise OffsetsOutOfRange(
                f"snapshots resume {topic}/{partition} at offset {offset}, but the partition ends "
                f"at {end}: the topic was recreated or truncated. Delete the models' snapshots to "
                f"retrain from the new topic, or point {settings_of.get(topic, 'its setting')} "
                "at the original"
            )

    def _restore_stream(
        self, resume: dict[tuple[str, int], int], restored: list[snapshot.Snapshot]
    ) -> None:
        # Dedup window, device clocks and profile must be those valid exactly where reading
        # resumes, or a replayed record would be taken for its own duplicate.
        wanted = {tp: offset for tp, offset in resume.items() if offset}
        if not wanted or not restored:
            return  # nothing learned yet (from the beginning, or a backfill): fresh stream state
        for snap in restored:
            if {tp: o for tp, o in snap.stream_position.items() if o} == wanted:
                self.gate.restore(snap.stream_state["gate"])
                self.profile.restore(snap.stream_state["profile"])
                self.position = dict(snap.stream_position)
                return
        raise StreamwiseError(
            f"no snapshot holds the stream state at the resume offsets {_offsets_repr(resume)}; "
            "the snapshots of these models come from different learners, or a new model starts "
            "mid-topic beside trained ones: run a backfill in a learner of its own "
            "(streamwise --spec new.toml learn --from-time ...), or delete the snapshots"
        )

    def _resume_offsets(self) -> dict[tuple[str, int], int]:
        # The slowest model decides where reading resumes; the others skip what they have.
        partitions = {tp for slot in self.slots for tp in slot.next_offsets}
        return {tp: min(slot.next_offsets.get(tp, 0) for slot in self.slots) for tp in partitions}

    def step(self) -> int:
        """Poll and process one batch, checkpoint if due. Returns the number of records."""
        records = self._bus.poll(self._max_poll_records, self._poll_timeout_s)
        started = time.perf_counter()
        self._rewound.clear()
        for record in records:
            self._process(record)
        self._log_lifecycle()
        self._since_checkpoint += len(records)
        if self._metrics is not None and records:
            self._metrics.batch_seconds.observe(time.perf_counter() - started)
            self._metrics.batch_records.observe(len(records))
            self._export()
        if self._policy.due(self._since_checkpoint, idle=not records):
            self._checkpoint_or_carry_on()
        return len(records)

    def _checkpoint_or_carry_on(self) -> None:
        """A periodic checkpoint; if the store is down, learning goes on and it is retried.

        Nothing is lost meanwhile: the models stay in memory, and the next checkpoint that
        succeeds covers everything since the last one (a crash before then replays it).
        """
        try:
            self.checkpoint()
        except StoreError as err:
            self._policy.done()  # retry after every_seconds, not on every poll
            if self._metrics is not None:
                for slot in self.slots:
                    self._metrics.snapshots.labels(slot.spec.model_id, "error").inc()
            if not self._store_down:
                log.warning(
                    "snapshot store unavailable; learning goes on, retrying",
                    extra={"error": str(err)},
                )
            self._store_down = True
        else:
            if self._store_down:
                log.info("snapshot store back; snapshots saved again")
            self._store_down = False

    def _process(self, record: Record) -> None:
        topic = record.topic
        if topic == self._topics.control:
            self._control(record)
            return
        if topic == self._topics.labels:
            self._side_record(record, decode_label, self._answer)
        elif topic == self._topics.predictions:
            self._side_record(record, decode_served_prediction, self._ask)
        else:
            self._reading(record)
        promoting = [slot for slot in self.slots if slot.promotion is not None]
        if promoting:
            self._promote(promoting)

    def _reading(self, record: Record) -> None:
        tp = (record.topic, record.partition)
        next_offset = record.offset + 1
        self.position[tp] = next_offset
        rejection: InvalidEvent | None = None
        try:
            reading = self.gate.admit(record, self._clock.now())
        except InvalidEvent as err:
            # Kept past the except block: drop the traceback, whose frame would otherwise form
            # a reference cycle with it and leave every rejection to the cyclic collector.
            reading, rejection = None, err.with_traceback(None)
        except Duplicate:
            reading = None  # processed once already: counted, neither learned again nor rejected
        else:
            self.profile.observe(reading)
        for slot in self.slots:
            if record.offset < slot.next_offsets.get(tp, 0):
                continue  # this model's snapshot already covers the record
            if reading is not None:
                try:
                    slot.observe(reading)
                except InvalidEvent as err:  # valid event, unusable features for this model
                    rejection = rejection or err.with_traceback(None)
                    slot.events_rejected += 1
            elif rejection is not None:
                slot.events_rejected += 1
            slot.next_offsets[tp] = next_offset  # consumed, learned or not
        if rejection is not None:
            self._dead_letter(record, rejection)

    def _side_record(
        self,
        record: Record,
        decode: Callable[[bytes], EventT],
        offer: Callable[[ModelSlot, EventT], None],
    ) -> None:
        """A record of a side topic (labels, served predictions), offered to every model."""
        tp = (record.topic, record.partition)
        self.position[tp] = record.offset + 1
        try:
            event: EventT | None = decode(record.value)
        except InvalidEvent as err:
            event, rejection = None, err.with_traceback(None)
        else:
            rejection = None
        for slot in self.slots:
            if record.offset < slot.next_offsets.get(tp, 0):
                continue  # this model's snapshot already covers the record
            if event is not None:
                offer(slot, event)
            slot.next_offsets[tp] = record.offset + 1
        if rejection is not None:
            self._dead_letter(record, rejection)

    def _answer(self, slot: ModelSlot, label: Label) -> None:
        """A delayed label: a model waiting for its target scores and learns the reading."""
        if slot.answers(label):
            delay = slot.answer(label)
            if delay is not None and self._metrics is not None:
                self._metrics.label_delay.labels(slot.spec.model_id).observe(delay)

    def _ask(self, slot: ModelSlot, served: ServedPrediction) -> None:
        """The API served a prediction awaiting feedback: its model keeps the features."""
        if served.model_id == slot.spec.model_id:
            slot.ask(served.prediction_id, served.x, served.ts.timestamp())

    def _promote(self, slots: list[ModelSlot]) -> None:
        """Apply pending automatic promotions, the version just before each one kept.

        With the store down they stay pending (and in the snapshot), applied once it is back.
        """
        if self._store_down:
            return
        ids = {slot.spec.model_id for slot in slots}
        try:
            self.checkpoint(keep=ids, reason="before promotion")
        except StoreError:
            self._store_down = True
            return
        for slot in slots:
            assert slot.promotion is not None
            reason, name = slot.promotion
            slot.promote(name, reason, slot.last_event_ts, previous_version=slot.version)
        try:
            self.checkpoint(affected=ids, reason="promotion")
        except StoreError:
            self._store_down = True  # promoted in memory; the next checkpoint saves it

    def _control(self, record: Record) -> None:
        """Apply an operator's command at its place in the stream, between two snapshots.

        The version saved just before is kept (a rollback may return to it). If the store is
        down, the command waits: the bus is rewound to it and it is read again later.
        """
        tp = (record.topic, record.partition)
        if tp in self._rewound:
            return  # an earlier command of this partition waits: keep their order
        try:
            command: Command | None = decode_command(record.value)
        except InvalidEvent as err:
            command, rejection = None, err.with_traceback(None)
        else:
            rejection = None
        target = next(
            (
                slot
                for slot in self.slots
                if command is not None
                and command.model_id == slot.spec.model_id
                and record.offset >= slot.next_offsets.get(tp, 0)
            ),
            None,
        )
        apply, refusal = None, None
        if target is not None:
            assert command is not None
            try:
                if self._store_down:
                    raise StoreError("the snapshot store is unavailable")
                apply = self._plan(target, command)
                self.checkpoint(keep={target.spec.model_id}, reason=f"before {command.action}")
            except StoreError:
                self._store_down = True
                self._bus.seek({tp: record.offset})
                self._rewound.add(tp)
                return
            except StreamwiseError as err:
                refusal = str(err)
        self.position[tp] = record.offset + 1
        if target is not None:
            assert command is not None
            detail = {
                "request_id": command.request_id,
                "requested_at": command.requested_at.timestamp(),
            }
            if apply is not None:
                apply(detail)
                self._command_done(command, "applied", "")
            else:
                target.refuse(command.action, refusal or "", **detail)
                self._command_done(command, "refused", refusal or "")
        for slot in self.slots:
            if record.offset >= slot.next_offsets.get(tp, 0):
                slot.next_offsets[tp] = record.offset + 1
        if rejection is not None:
            self._dead_letter(record, rejection)
        if command is not None and command.model_id not in self._model_ids:
            # Another learner may train it: not an error here.
            self._command_done(command, "ignored", f"no model {command.model_id!r} here")
        if target is not None:
            assert command is not None
            reason = command.action if apply is not None else f"refused {command.action}"
            try:
                self.checkpoint(affected={target.spec.model_id}, reason=reason)
            except StoreError:
                self._store_down = True  # applied in memory; the next checkpoint saves it

    def _plan(self, slot: ModelSlot, command: Command) -> Callable[[dict[str, Any]], None]:
        """Check a command against the model; what applying it does (StreamwiseError: refused)."""
        if command.action == "promote":
            name = command.candidate
            assert name is not None
            slot.spec.candidate(name)  # SpecError if the spec has no such candidate
            if name == slot.champion:
                raise StreamwiseError(f"{name!r} is already the champion")

            def promote(detail: dict[str, Any]) -> None:
                # slot.version is read now: the version saved just before, kept for rollback.
                slot.promote(name, "manual", slot.last_event_ts, slot.version, **detail)

            return promote
        target = self._rollback_target(slot, command.to_version)

        def roll_back(detail: dict[str, Any]) -> None:
            slot.roll_back(target, slot.last_event_ts, **detail)

        return roll_back

    def _rollback_target(self, slot: ModelSlot, version: int | None) -> snapshot.Snapshot:
        model_id = slot.spec.model_id
        if version is None:
            version = slot.version_before_last_promotion()
            if version is None:
                raise StreamwiseError(f"{model_id!r} was never promoted: give the version")
        stored = self._store.load(model_id, version)
        if stored is None:
            raise StreamwiseError(
                f"version {version} of {model_id!r} is not retained; "
                f"retained: {self._store.versions(model_id)}"
            )
        return snapshot.decode(stored.blob, self._key)

    def _command_done(self, command: Command, outcome: str, detail: str) -> None:
        if self._metrics is not None:
            self._metrics.commands.labels(command.action, outcome).inc()
        level = {"applied": logging.INFO, "ignored": logging.DEBUG}.get(outcome, logging.ERROR)
        log.log(
            level,
            f"command {outcome}",
            extra={
                "action": command.action,
                "model_id": command.model_id,
                "request_id": command.request_id,
                "detail": detail,
            },
        )

    def _log_lifecycle(self) -> None:
        for slot in self.slots:
            while slot.new_events:
                event = slot.new_events.pop(0)
                log.info("model lifecycle", extra={"model_id": slot.spec.model_id, **event})

    def _dead_letter(self, record: Record, rejection: InvalidEvent) -> None:
        letter = dead_letter(record, rejection, self._clock.now())
        self._bus.publish(self._topics.dead_letters, record.key or "", letter.encode())
        if self._metrics is not None:
            counter = self._dlq_counters.get(rejection.reason)
            if counter is None:  # labels() costs a lock and a lookup: once per reason
                counter = self._dlq_counters[rejection.reason] = self._metrics.dead_letters.labels(
                    rejection.reason
                )
            counter.inc()
        log.debug(
            "dead-lettered",
            extra={
                "reason": rejection.reason,
                "partition": record.partition,
                "offset": record.offset,
            },
        )

    def checkpoint(
        self,
        *,
        keep: frozenset[str] | set[str] = frozenset(),
        affected: frozenset[str] | set[str] = frozenset(),
        reason: str = "checkpoint",
    ) -> None:
        """Flush dead letters, then save every model's snapshot, then commit (advisory).

        ``keep`` names models whose new version must survive retention (rollback targets);
        ``affected`` models get ``reason`` in their lineage, the others plain "checkpoint".
        """
        self._bus.flush(timeout_s=30.0)  # DLQ writes for the covered offsets are durable first
        # Stream state and report are the same for every model: built once per checkpoint.
        report = self.stream_report()
        stream_state = {"gate": self.gate.state(), "profile": self.profile.state()}
        position = dict(self.position)
        for slot in self.slots:
            model_id = slot.spec.model_id
            why = reason if model_id in affected or model_id in keep else "checkpoint"
            self._save(slot, stream_state, position, report, keep=model_id in keep, reason=why)
        if self._metrics is not None:
            self._export_profile(report)
            self._export_lag()
            for slot in self.slots:
                if slot.preparer is not None and slot.spec.prepare.silence_seconds is not None:
                    silent = len(slot.preparer.silent_devices())
                    self._metrics.silent_devices.labels(slot.spec.model_id).set(silent)
        self._bus.commit(self._resume_offsets())
        self._since_checkpoint = 0
        self._policy.done()

    def _save(
        self,
        slot: ModelSlot,
        stream_state: dict[str, Any],
        position: dict[tuple[str, int], int],
        report: dict[str, Any],
        *,
        keep: bool,
        reason: str,
    ) -> None:
        started = time.perf_counter()
        version = (slot.version or 0) + 1
        snap = slot.to_snapshot(version, self._clock.now())
        snap.stream_state = stream_state
        snap.stream_position = position
        snap.stream_report = report
        snap.lineage = {"parent": slot.version, "reason": reason, "kept": keep}
        blob = snapshot.encode(snap, self._key)
        try:
            self._store.save(
                slot.spec.model_id, blob, version, expected_previous=slot.version, keep=keep
            )
        except SnapshotConflict:
            if slot.version is None or self._store.latest_version(slot.spec.model_id) is not None:
                # Another learner moved the model on: this one is a zombie and must stop.
                if self._metrics is not None:
                    self._metrics.snapshots.labels(slot.spec.model_id, "conflict").inc()
                raise
            # The store lost every version (flushed or restarted without persistence); this
            # learner still holds the model in memory, so it re-creates the history.
            log.warning(
                "snapshot store lost its history; re-creating it",
                extra={"model_id": slot.spec.model_id, "version": version},
            )
            self._store.save(slot.spec.model_id, blob, version, expected_previous=None, keep=keep)
        slot.version = version
        elapsed = time.perf_counter() - started
        if self._metrics is not None:
            model_id = slot.spec.model_id
            self._metrics.snapshots.labels(model_id, "saved").inc()
            self._metrics.snapshot_seconds.labels(model_id).observe(elapsed)
            self._metrics.snapshot_bytes.labels(model_id).set(len(blob))
            self._metrics.snapshot_version.labels(model_id).set(version)
        log.info(
            "snapshot saved",
            extra={
                "model_id": slot.spec.model_id,
                "version": version,
                "bytes": len(blob),
                "events_learned": slot.events_learned,
                "seconds": round(elapsed, 4),
                "next_offsets": _offsets_repr(slot.next_offsets),
            },
        )

    def _stream_totals(self) -> dict[str, int]:
        counts = self.gate.counts
        return {
            "accepted": counts["accepted"],
            "duplicate": counts["duplicate"],
            "rejected": counts["consumed"] - counts["accepted"] - counts["duplicate"],
        }

    def _export_lag(self) -> None:
        assert self._metrics is not None
        try:
            ends = self._bus.end_offsets()
        except StreamwiseError as err:  # a metric must not stop learning
            log.warning("cannot read end offsets for the lag metric", extra={"error": str(err)})
            return
        for (topic, partition), end in ends.items():
            behind = end - self.position.get((topic, partition), 0)
            self._metrics.lag.labels(topic, str(partition)).set(max(behind, 0))

    def _export_profile(self, report: dict[str, Any]) -> None:
        assert self._metrics is not None
        gauge = self._metrics.stream.sensor
        for name in self._catalog.sensors:  # catalog sensors only: bounded label values
            profile = report["sensors"].get(name)
            if profile is None:
                continue
            values = {
                "mean": profile["mean"],
                "std": profile["std"],
                "missing_ratio": profile["missing_ratio"],
                **profile["quantiles"],
            }
            for stat, value in values.items():
                if value is not None:
                    gauge.labels(name, stat).set(value)

    def stream_report(self) -> dict[str, Any]:
        """The stream profile with the data-quality counts, as plain numbers."""
        report = self.profile.report(self.gate.rejected)
        report["counts"] = dict(self.gate.counts)
        return report

    def _counter_totals(self) -> dict[tuple[str, tuple[str, ...]], int]:
        """Every exported counter's running total, keyed by (counter, label values)."""
        totals = {("stream", (outcome,)): n for outcome, n in self._stream_totals().items()}
        for slot in self.slots:
            model_id = slot.spec.model_id
            totals.update({("events", (model_id, o)): n for o, n in _outcomes(slot).items()})
            if slot.preparer is not None:
                totals.update(
                    {("cleaning", (model_id, step)): n for step, n in slot.preparer.counts.items()}
                )
            for key, n in slot.counts.items():  # "promotions:auto", "drifts:main", "rollbacks"
                counter, _, label = key.partition(":")
                totals[counter, (model_id, label) if label else (model_id,)] = n
        return totals

    def _export(self) -> None:
        assert self._metrics is not None
        counters = {
            "stream": self._metrics.stream.records,
            "events": self._metrics.events,
            "cleaning": self._metrics.cleaning,
            "promotions": self._metrics.promotions,
            "drifts": self._metrics.drifts,
            "rollbacks": self._metrics.rollbacks,
            "labels": self._metrics.labels,
        }
        # Counters move by what happened since the last export (per batch, not per event).
        for key, total in self._counter_totals().items():
            delta = total - self._exported.get(key, 0)
            if delta > 0:
                name, labels = key
                counters[name].labels(*labels).inc(delta)
            self._exported[key] = total
        for slot in self.slots:
            model_id = slot.spec.model_id
            for candidate in slot.candidates.values():
                champion = candidate.name == slot.champion
                for window, values in candidate.values().items():
                    for name, value in values.items():
                        if value is None:
                            continue
                        self._metrics.candidate_metric.labels(
                            model_id, candidate.name, name, window
                        ).set(value)
                        if champion:
                            self._metrics.metric_value.labels(model_id, name, window).set(value)

    def run(self, stop: threading.Event) -> None:
        """Process until ``stop`` is set, then write a final checkpoint."""
        while not stop.is_set():
            self.step()
        # Only a clean stop checkpoints: after an unexpected error the state may be half-updated,
        # and the last snapshot plus replay from its offsets is the recovery.
        if self._since_checkpoint:
            try:
                self.checkpoint()
            except StoreError as err:  # the last snapshot plus replay recovers what this held
                log.error("final snapshot failed: store unavailable", extra={"error": str(err)})


def _outcomes(slot: ModelSlot) -> dict[str, int]:
    # Each a running total that only grows: a Prometheus counter per outcome.
    return {
        "learned": slot.events_learned,
        "held_out": slot.events_held_out,
        "unlabelled": slot.events_unlabelled,
        "awaiting_label": slot.events_awaiting,
        "rejected": slot.events_rejected,
    }


def _offsets_repr(offsets: dict[tuple[str, int], int]) -> dict[str, int]:
    return {
        f"{topic}/{partition}": offset for (topic, partition), offset in sorted(offsets.items())
    }
