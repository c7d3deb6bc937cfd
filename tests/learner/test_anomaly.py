"""Anomaly detection: an unsupervised detector learns every reading; labelled faults score it."""

from __future__ import annotations

import datetime as dt
import random

from river import anomaly, evaluate

from learner.models import METRICS, build_model
from streamwise.adapters.memory import MemoryBroker, MemoryBus, MemorySnapshotStore
from streamwise.events import Reading
from streamwise.spec import ModelSpec
from tests.learner.test_loop import TOPICS, drain, make_learner

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SPEC = ModelSpec.example(
    model_id="spikes",
    task="anomaly",
    target="fault",
    pipeline=[{"name": "HalfSpaceTrees", "params": {"seed": 7, "window_size": 100}}],
    metrics=["ROCAUC", "Precision", "Recall", "F1", "Accuracy"],
    threshold=0.6,
)


def vibration_stream(n: int, seed: int = 3) -> list[tuple[dict[str, float], bool | None]]:
    """Normal vibration in [0, 0.3]; 3 % spikes near 1; every fifth reading unlabelled."""
    rng = random.Random(seed)
    out: list[tuple[dict[str, float], bool | None]] = []
    for i in range(n):
        fault = rng.random() < 0.03
        x = {
            "vibration": 0.7 + 0.3 * rng.random() if fault else 0.3 * rng.random(),
            "temp": 0.2 + 0.1 * rng.random(),
        }
        out.append((x, None if i % 5 == 4 else fault))
    return out


def test_detector_scores_exactly_like_river_and_learns_unlabelled_readings() -> None:
    rows = vibration_stream(3000)
    broker = MemoryBroker(partitions=1)
    bus = MemoryBus(broker)
    for i, (x, y) in enumerate(rows):
        reading = Reading(
            event_id=f"e{i}",
            device_id="d",
            ts=T0 + dt.timedelta(seconds=i),
            values=x,
            labels={} if y is None else {"fault": y},
        )
        bus.publish(TOPICS.readings, "d", reading.encode())
    bus.flush(1.0)
    learner = make_learner(broker, MemorySnapshotStore(), SPEC)
    drain(learner)
    (slot,) = learner.slots
    assert slot.events_learned == 3000  # unsupervised: every reading, labelled or not
    ours = slot.board.values()["cumulative"]

    # River's loop: score, update the metrics on labelled readings only, learn every reading.
    model = build_model(SPEC)
    river_auc = METRICS["ROCAUC"]()
    label_metrics = {name: METRICS[name]() for name in ("Precision", "Recall", "F1", "Accuracy")}
    flag = anomaly.ThresholdFilter(anomaly.HalfSpaceTrees(), threshold=0.6).classify
    for x, y in rows:
        score = model.score_one(x)
        if y is not None:
            river_auc.update(y, score)
            for metric in label_metrics.values():
                metric.update(y, flag(score))
        model.learn_one(x)
    assert ours["ROCAUC"] == river_auc.get()
    for name, metric in label_metrics.items():
        assert ours[name] == metric.get(), name
    assert ours["ROCAUC"] > 0.9 and ours["Recall"] > 0.5  # it does find the spikes

    # With every reading labelled, progressive_val_score itself agrees.
    all_labelled = [(x, bool(y)) for x, y in rows]
    fresh = make_learner(MemoryBroker(partitions=1), MemorySnapshotStore(), SPEC)
    for i, (x, y) in enumerate(all_labelled):
        fresh.slots[0].observe(
            Reading(event_id=f"e{i}", device_id="d", ts=T0, values=x, labels={"fault": y})
        )
    river = evaluate.progressive_val_score(all_labelled, build_model(SPEC), METRICS["ROCAUC"]())
    assert fresh.slots[0].board.values()["cumulative"]["ROCAUC"] == river.get()
