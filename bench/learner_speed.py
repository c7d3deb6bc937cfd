"""Benchmark 1: the learner on real Kafka and Redis against a bare River loop, same events.

Ours: :class:`learner.loop.Learner` over :class:`KafkaBus` and :class:`RedisSnapshotStore`,
built like ``streamwise learn`` (default snapshot policy), draining a topic that holds exactly
``n`` pre-produced readings: poll, decode, quality checks, features, predict, score, learn,
snapshots. Timed from the first poll to the last record processed (``start()``, which connects
and publishes the untrained model, is left out).

Baseline: River alone, over the same readings already decoded to ``(x, y)`` in memory:
``predict_one``, ``metric.update`` (skipped for an empty prediction, as River's evaluator does),
``learn_one``. Same spec, so the same model and metric.
"""

from __future__ import annotations

import time

from bench.common import BenchError, Context, Row, Target, best, make_learner
from bench.workload import LEARNER_SPECS, simulate
from ingest.producer import publish
from learner.models import METRICS, build_model
from streamwise.adapters.kafka import KafkaBus
from streamwise.adapters.redis import RedisSnapshotStore
from streamwise.events import decode_reading
from streamwise.features import target_of, to_x
from streamwise.settings import TopicSettings
from streamwise.spec import ModelSpec

NAME = "learner"
#: Events per model, (quick, full): the slow ensembles get fewer so each run lasts seconds.
SIZES = {
    "StandardScaler|LogisticRegression": (4_000, 60_000),
    "StandardScaler|LinearRegression": (4_000, 60_000),
    "HoeffdingTreeClassifier": (1_500, 20_000),
    "ARFClassifier(n_models=3)": (500, 5_000),
}
LINEAR = {"StandardScaler|LogisticRegression", "StandardScaler|LinearRegression"}


def bare_river(spec: ModelSpec, xy: list[tuple[dict, object]]) -> float:
    """Events/s of River's own progressive-validation loop over decoded events."""
    model = build_model(spec)
    metric = METRICS[spec.metrics[0]]()
    predict, update, learn = model.predict_one, metric.update, model.learn_one
    started = time.perf_counter()
    for x, y in xy:
        y_pred = predict(x)
        if y_pred is not None:
            update(y, y_pred)
        learn(x, y)
    return len(xy) / (time.perf_counter() - started)


def learner_on_kafka(
    ctx: Context, spec: ModelSpec, topics: TopicSettings, n: int, run: str
) -> float:
    """Events/s of our learner draining ``n`` records from Kafka, snapshotting to Redis."""
    bus = KafkaBus(ctx.kafka(run))
    store = RedisSnapshotStore(ctx.redis(run))
    learner = make_learner([spec], bus, store, ctx.settings, topics)
    try:
        learner.start()
        done, deadline = 0, time.monotonic() + 600
        started = time.perf_counter()
        while done < n:
            done += learner.step()
            if time.monotonic() > deadline:
                raise BenchError(f"learner processed {done} of {n} records in 600 s")
        elapsed = time.perf_counter() - started
        slot = learner.slots[0]
        if slot.events_learned != n:
            raise BenchError(
                f"{spec.model_id}: learned {slot.events_learned} of {n} records "
                f"({slot.events_rejected} rejected); the benchmark needs every one learned"
            )
        return n / elapsed
    finally:
        bus.close()
        store.close()


def run(ctx: Context) -> list[Row]:
    repeats = ctx.pick(1, 2)
    task = ctx.progress.add_task("learner vs bare River", total=len(LEARNER_SPECS) * repeats)
    producer = KafkaBus(ctx.kafka("learner-producer"))
    rows = []
    try:
        for label, spec in LEARNER_SPECS.items():
            n = ctx.pick(*SIZES[label])
            slug = spec.model_id
            topics = ctx.topics(slug)
            readings = simulate(n)
            producer.ensure_topics([topics.readings])
            publish(producer, topics.readings, readings)
            producer.flush(timeout_s=120.0)
            decoded = [decode_reading(r.encode()) for r in readings]
            xy = [(to_x(r, spec), target_of(r, spec)) for r in decoded]
            baseline, ours = [], []
            for i in range(repeats):  # alternate, so drift on a shared machine hits both
                baseline.append(bare_river(spec, xy))
                ours.append(learner_on_kafka(ctx, spec, topics, n, f"{slug}-{i}"))
                ctx.progress.advance(task)
            rows.append(
                Row(
                    NAME,
                    label,
                    "events/s",
                    "bare River loop",
                    best(baseline),
                    best(ours),
                    target=Target("ratio_at_least", 0.8) if label in LINEAR else None,
                    note=f"{n} events, best of {repeats}; ours via Kafka + Redis snapshots",
                )
            )
            ctx.details.setdefault(NAME, {})[label] = {"baseline": baseline, "ours": ours, "n": n}
    finally:
        producer.close()
    return rows
