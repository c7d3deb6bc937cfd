"""Champion/challenger, drift, promotion, rollback and the control topic, on the memory bus."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from river import evaluate

from ingest import replay
from learner.models import METRICS, build_model
from learner.slot import holdout_hash
from streamwise import snapshot
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.events import Command, DeadLetter, Reading
from streamwise.spec import ModelSpec
from tests.learner.test_loop import KEY, TOPICS, drain, make_learner, publish

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _logreg(lr: float) -> list[dict[str, object]]:
    return [
        {"name": "StandardScaler"},
        {
            "name": "LogisticRegression",
            "params": {"optimizer": {"name": "SGD", "params": {"lr": lr}}},
        },
    ]


#: "slow" adapts to a changed concept far more slowly than "fast".
FLIP_SPEC = ModelSpec.parse(
    {
        "model_id": "flip",
        "task": "binary",
        "target": "y",
        "candidates": [
            {"name": "slow", "pipeline": _logreg(0.002)},
            {"name": "fast", "pipeline": _logreg(0.5)},
        ],
        "metrics": ["Accuracy", "F1"],
        "rolling_window": 200,
        "selection": {"metric": "Accuracy", "margin": 0.05, "min_events": 100},
    }
)


def flip_stream(n_before: int, n_after: int, seed: int = 1) -> list[Reading]:
    """y = x > 0, then abruptly y = x < 0: a concept drift at ``n_before``."""
    rng = random.Random(seed)
    out = []
    for i in range(n_before + n_after):
        x = rng.uniform(-1, 1)
        out.append(
            Reading(
                event_id=f"e{i}",
                device_id=f"d{i % 7}",
                ts=T0 + dt.timedelta(seconds=i),
                values={"x": x, "noise": rng.gauss(0, 1)},
                labels={"y": (x > 0) if i < n_before else (x < 0)},
            )
        )
    return out


def send(broker: MemoryBroker, *items: Reading | Command | bytes) -> None:
    bus = MemoryBus(broker)
    for item in items:
        if isinstance(item, Reading):
            bus.publish(TOPICS.readings, item.device_id, item.encode())
        elif isinstance(item, Command):
            bus.publish(TOPICS.control, item.model_id, item.encode())
        else:
            bus.publish(TOPICS.control, "junk", item)
    bus.flush(1.0)


def command(**fields: object) -> Command:
    return Command(requested_at=T0, **fields)  # type: ignore[arg-type]


def latest(store: MemorySnapshotStore, model_id: str = "flip") -> snapshot.Snapshot:
    stored = store.load(model_id)
    assert stored is not None
    return snapshot.decode(stored.blob, KEY)


def test_every_candidate_scores_exactly_like_river_alone() -> None:
    spec = ModelSpec.parse(
        {
            "model_id": "phishing",
            "task": "binary",
            "target": "y",
            "candidates": [
                {"name": "logreg", "pipeline": _logreg(0.01)},
                {"name": "nb", "pipeline": [{"name": "GaussianNB"}]},
                {"name": "tree", "pipeline": [{"name": "HoeffdingTreeClassifier"}]},
            ],
            "metrics": ["Accuracy", "F1", "LogLoss", "ROCAUC"],
        }
    )
    broker = MemoryBroker()
    publish(MemoryBus(broker), "river:Phishing")
    learner = make_learner(broker, MemorySnapshotStore(), spec)
    drain(learner)
    (slot,) = learner.slots
    for name, candidate in slot.candidates.items():
        ours = candidate.board.values()["cumulative"]
        for metric in spec.metrics:
            river_metric = evaluate.progressive_val_score(
                replay.load_dataset("river:Phishing"), build_model(spec, name), METRICS[metric]()
            )
            assert ours[metric] == river_metric.get(), (name, metric)


def test_challenger_that_stays_ahead_is_promoted_and_the_version_before_is_kept() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore(keep_versions=3)
    send(broker, *flip_stream(1500, 1500))
    learner = make_learner(broker, store, FLIP_SPEC)
    drain(learner)
    (slot,) = learner.slots
    promotions = [e for e in slot.lifecycle if e["kind"] == "promotion"]
    assert [(p["previous"], p["candidate"], p["reason"]) for p in promotions] == [
        ("slow", "fast", "auto")
    ]
    promotion = promotions[0]
    assert promotion["at_event"] > 1500  # after the concept changed, not before
    assert promotion["candidate_value"] - promotion["champion_value"] > 0.05
    assert slot.champion == "fast" and slot.counts == {"promotions:auto": 1}

    served = latest(store)
    assert served.champion == "fast"
    assert served.model is served.candidates["fast"].model  # the API serves the champion
    kept = store.load("flip", promotion["previous_version"])
    assert kept is not None, "the version before the promotion outlives retention"
    before = snapshot.decode(kept.blob, KEY)
    assert (before.champion, before.lineage["reason"], before.lineage["kept"]) == (
        "slow",
        "before promotion",
        True,
    )


def test_champion_drift_resets_challengers_and_is_recorded() -> None:
    spec = ModelSpec.parse(
        {
            **FLIP_SPEC.model_dump(exclude={"drift"}),
            "drift": {"detector": "ADWIN", "reaction": "reset_challengers"},
        }
    )
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    send(broker, *flip_stream(1500, 1500))
    learner = make_learner(broker, store, spec)
    drain(learner)
    (slot,) = learner.slots
    kinds = [(e["kind"], e.get("candidate")) for e in slot.lifecycle]
    first_drift = next(
        e
        for e in slot.lifecycle
        if e["kind"] == "drift" and e["champion"] and e["error"] == "worse"
    )
    assert 1500 < first_drift["at_event"] < 1700, "ADWIN sees the flip soon after it happens"
    assert first_drift["reaction"] == "reset_challengers"
    assert ("promotion", "fast") in kinds
    assert kinds.index(("promotion", "fast")) > kinds.index(("drift", "slow"))
    fast = slot.candidates["fast"].state
    assert fast.started_at > 1500  # restarted untrained at a drift of the champion
    assert fast.events_learned == slot.events_learned - fast.started_at
    assert slot.counts["drifts:slow"] >= 1


def test_manual_promote_and_rollback_go_through_the_control_topic_exactly_once() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore(keep_versions=2)
    stream = flip_stream(600, 0)
    send(broker, *stream[:300])
    spec = ModelSpec.parse({**FLIP_SPEC.model_dump(), "selection": {"auto": False}})
    learner = make_learner(broker, store, spec)
    drain(learner)
    send(broker, command(action="promote", model_id="flip", candidate="fast", request_id="p1"))
    drain(learner)
    (slot,) = learner.slots
    assert slot.champion == "fast" and latest(store).champion == "fast"
    before_promotion = slot.lifecycle[-1]["previous_version"]

    send(broker, *stream[300:])  # the promoted champion learns on
    drain(learner)
    send(broker, command(action="rollback", model_id="flip", request_id="r1"))
    drain(learner)
    want = snapshot.decode(store.load("flip", before_promotion).blob, KEY)  # type: ignore[union-attr]
    served = latest(store)
    assert (slot.champion, served.champion) == ("slow", "slow")
    probe = {"x": 0.3, "noise": 0.0}
    assert served.model.predict_proba_one(probe) == want.model.predict_proba_one(probe)
    assert served.metric_values == want.metric_values
    assert served.events_learned == 600  # the stream position is not rolled back
    assert served.lineage["reason"] == "rollback"
    assert [e["kind"] for e in served.lifecycle] == ["promotion", "rollback"]
    assert served.lifecycle[-1]["to_version"] == before_promotion

    # A restart replays from the snapshot's offsets: no command is applied twice.
    again = make_learner(broker, store, spec)
    drain(again)
    assert [e["kind"] for e in again.slots[0].lifecycle] == ["promotion", "rollback"]
    assert again.slots[0].counts == {"promotions:manual": 1, "rollbacks": 1}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (command(action="promote", model_id="flip", candidate="nope"), "has no candidate 'nope'"),
        (command(action="promote", model_id="flip", candidate="slow"), "already the champion"),
        (command(action="rollback", model_id="flip"), "never promoted"),
        (command(action="rollback", model_id="flip", to_version=999), "not retained"),
    ],
)
def test_refused_commands_change_nothing_but_say_why(bad: Command, reason: str) -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    send(broker, *flip_stream(100, 0))
    learner = make_learner(broker, store, FLIP_SPEC)
    drain(learner)
    probe = {"x": 0.3, "noise": 0.0}
    proba = learner.slots[0].model.predict_proba_one(probe)
    send(broker, bad)
    drain(learner)
    (slot,) = learner.slots
    assert slot.champion == "slow"
    assert slot.model.predict_proba_one(probe) == proba
    event = latest(store).lifecycle[-1]
    assert event["kind"] == "refused" and reason in event["reason"]
    assert event["request_id"] == bad.request_id


def test_malformed_commands_are_dead_lettered_and_other_models_ignore_commands() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    send(broker, *flip_stream(50, 0))
    learner = make_learner(broker, store, FLIP_SPEC)
    drain(learner)
    send(broker, b"{not a command", command(action="promote", model_id="other", candidate="x"))
    drain(learner)
    learner.checkpoint()  # dead letters are flushed by a checkpoint
    letters = [DeadLetter.model_validate_json(r.value) for r in broker.log(TOPICS.dead_letters)[0]]
    assert [(d.reason, d.topic) for d in letters] == [("schema", TOPICS.control)]
    assert latest(store).lifecycle == []
    assert learner.slots[0].next_offsets[TOPICS.control, 0] == 2  # both consumed


def test_learner_metrics_count_promotions_per_candidate_metric() -> None:
    from prometheus_client import CollectorRegistry

    from streamwise.telemetry import LearnerMetrics

    registry = CollectorRegistry()
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    send(broker, *flip_stream(1500, 1500))
    learner = make_learner(broker, store, FLIP_SPEC, metrics=LearnerMetrics(registry))
    drain(learner)
    value = registry.get_sample_value
    assert value("streamwise_learner_promotions_total", {"model": "flip", "reason": "auto"}) == 1
    fast = learner.slots[0].candidates["fast"].board.values()["rolling"]["Accuracy"]
    labels = {"model": "flip", "candidate": "fast", "metric": "Accuracy", "window": "rolling"}
    assert value("streamwise_learner_candidate_metric", labels) == fast
    champion = {"model": "flip", "metric": "Accuracy", "window": "rolling"}
    assert value("streamwise_learner_metric", champion) == fast  # fast is champion now


def test_holdout_events_are_scored_never_learned_and_progressive_metrics_match_river() -> None:
    spec = ModelSpec.example(
        model_id="phishing",
        target="y",
        metrics=["Accuracy", "LogLoss"],
        holdout=0.2,
    )
    broker = MemoryBroker()
    publish(MemoryBus(broker), "river:Phishing")
    learner = make_learner(broker, MemorySnapshotStore(), spec)
    drain(learner)
    (slot,) = learner.slots

    # Reference: the same split by event id, River's own loop on what is learned.
    model = build_model(spec)
    progressive = {name: METRICS[name]() for name in spec.metrics}
    holdout = {name: METRICS[name]() for name in spec.metrics}
    held = 0
    for reading in replay.readings("river:Phishing"):
        x, y = dict(reading.values), reading.labels["y"]
        proba = model.predict_proba_one(x)
        label = max(proba, key=proba.get) if proba else None
        if holdout_hash(reading.event_id) < 0.2 * 2**32:
            held += 1
            for name, metric in holdout.items():
                metric.update(y, proba if name == "LogLoss" else label)
            continue
        for name, metric in progressive.items():
            metric.update(y, proba if name == "LogLoss" else label)
        model.learn_one(x, y)
    values = slot.candidates["main"].values()
    assert 0.15 < held / 1250 < 0.25 and slot.events_held_out == held
    assert slot.events_learned == 1250 - held
    assert values["cumulative"] == {n: m.get() for n, m in progressive.items()}
    assert values["holdout"] == {n: m.get() for n, m in holdout.items()}
    assert set(values) == {"cumulative", "rolling", "holdout", "holdout_rolling"}


def test_a_new_model_skips_commands_sent_before_it_existed() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore()
    send(broker, *flip_stream(50, 0), command(action="promote", model_id="flip", candidate="fast"))
    learner = make_learner(broker, store, FLIP_SPEC)
    drain(learner)
    assert learner.slots[0].champion == "slow" and learner.slots[0].lifecycle == []


def test_a_refused_command_keeps_no_version() -> None:
    broker, store = MemoryBroker(partitions=1), MemorySnapshotStore(keep_versions=2)
    send(broker, *flip_stream(50, 0))
    learner = make_learner(broker, store, FLIP_SPEC)
    drain(learner)
    send(broker, command(action="promote", model_id="flip", candidate="nope"))
    drain(learner)
    for _ in range(3):
        learner.checkpoint()
    assert len(store.versions("flip")) == 2  # nothing kept for a command that changed nothing
    assert latest(store).lifecycle[-1]["kind"] == "refused"


def test_a_promotion_decided_before_a_crash_is_applied_where_it_was_decided() -> None:
    broker = MemoryBroker(partitions=1)
    send(broker, *flip_stream(1500, 1500))
    reference = make_learner(broker, MemorySnapshotStore(), FLIP_SPEC)
    drain(reference)
    (promotion,) = [e for e in reference.slots[0].lifecycle if e["kind"] == "promotion"]

    class CrashAfterKeeping(MemorySnapshotStore):
        """Dies right after the version before a promotion is saved (before the switch)."""

        def save(self, *args: object, keep: bool = False, **kwargs: object) -> None:
            super().save(*args, keep=keep, **kwargs)  # type: ignore[arg-type]
            if keep:
                raise KeyboardInterrupt

    store = CrashAfterKeeping()
    crashing = make_learner(broker, store, FLIP_SPEC)
    with pytest.raises(KeyboardInterrupt):
        drain(crashing)
    store.__class__ = MemorySnapshotStore  # the process is gone; the store remains
    resumed = make_learner(broker, store, FLIP_SPEC)
    drain(resumed)
    (again,) = [e for e in resumed.slots[0].lifecycle if e["kind"] == "promotion"]
    assert again["at_event"] == promotion["at_event"]
    assert resumed.slots[0].board.values() == reference.slots[0].board.values()
