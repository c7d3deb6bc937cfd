"""Every Prometheus metric streamwise exports, defined once, with bounded labels only.

Labels are model ids, metric names, outcomes and reasons: never device or event ids. Each
process builds the groups it needs on a registry it owns (tests use a fresh one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streamwise.snapshot import Snapshot

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class LearnerMetrics:
    """What a learner process exports."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "streamwise_learner_events_total",
            "Records consumed per model, by outcome "
            "(learned, held_out, unlabelled, awaiting_label, rejected).",
            ["model", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "streamwise_learner_dead_letters_total",
            "Records sent to the dead-letter topic, by reason (once per record).",
            ["reason"],
            registry=registry,
        )
        self.metric_value = Gauge(
            "streamwise_learner_metric",
            "Metric of the champion (window: cumulative, rolling; with a holdout also "
            "holdout and holdout_rolling).",
            ["model", "metric", "window"],
            registry=registry,
        )
        self.snapshots = Counter(
            "streamwise_learner_snapshots_total",
            "Snapshots written, by outcome (saved, conflict, error: store unavailable).",
            ["model", "outcome"],
            registry=registry,
        )
        self.snapshot_seconds = Histogram(
            "streamwise_learner_snapshot_duration_seconds",
            "Time to encode, sign and store one snapshot.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.snapshot_bytes = Gauge(
            "streamwise_learner_snapshot_size_bytes",
            "Size of the last snapshot written.",
            ["model"],
            registry=registry,
        )
        self.cleaning = Counter(
            "streamwise_learner_cleaning_total",
            "Declared cleaning steps applied, per model "
            "(step: imputed, clipped, flagged, silence, evicted).",
            ["model", "step"],
            registry=registry,
        )
        self.silent_devices = Gauge(
            "streamwise_learner_silent_devices",
            "Devices not heard from for longer than the spec's silence_seconds (event time).",
            ["model"],
            registry=registry,
        )
        self.candidate_metric = Gauge(
            "streamwise_learner_candidate_metric",
            "Progressive-validation metric of every candidate, champion included.",
            ["model", "candidate", "metric", "window"],
            registry=registry,
        )
        self.promotions = Counter(
            "streamwise_learner_promotions_total",
            "Champion changes, by reason (auto, manual).",
            ["model", "reason"],
            registry=registry,
        )
        self.drifts = Counter(
            "streamwise_learner_drifts_total",
            "Drifts detected on a candidate's error.",
            ["model", "candidate"],
            registry=registry,
        )
        self.rollbacks = Counter(
            "streamwise_learner_rollbacks_total",
            "Rollbacks applied to a model.",
            ["model"],
            registry=registry,
        )
        self.commands = Counter(
            "streamwise_learner_commands_total",
            "Operator commands read from the control topic, by action and outcome.",
            ["action", "outcome"],
            registry=registry,
        )
        self.labels = Counter(
            "streamwise_learner_labels_total",
            "Delayed labels and the readings waiting for them, by outcome "
            "(matched, unknown, expired, evicted, invalid).",
            ["model", "outcome"],
            registry=registry,
        )
        self.label_delay = Histogram(
            "streamwise_learner_label_delay_seconds",
            "Event time from a reading to the delayed label that answered it.",
            ["model"],
            buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86_400),
            registry=registry,
        )
        self.lag = Gauge(
            "streamwise_learner_lag_records",
            "Records in a partition not yet read by the learner (end offset - position), "
            "set at each checkpoint.",
            ["topic", "partition"],
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "streamwise_learner_batch_duration_seconds",
            "Time to take one polled batch through validate, features, predict, score and "
            "learn (every model), snapshots excluded.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_records = Histogram(
            "streamwise_learner_batch_records",
            "Records per polled batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            registry=registry,
        )
        self.stream = StreamMetrics(registry)
        self.snapshot_version = Gauge(
            "streamwise_learner_snapshot_version",
            "Version of the last snapshot written.",
            ["model"],
            registry=registry,
        )


class StreamMetrics:
    """What a learner exports about the stream itself (data quality and profile)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "streamwise_stream_records_total",
            "Records read by the learner, by outcome (accepted, duplicate, rejected).",
            ["outcome"],
            registry=registry,
        )
        self.sensor = Gauge(
            "streamwise_stream_sensor_value",
            "Profile of a catalog sensor over accepted readings "
            "(stat: mean, std, p05, p50, p95, missing_ratio).",
            ["sensor", "stat"],
            registry=registry,
        )


class ApiMetrics:
    """What the API process exports about requests (served models come from a collector)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.predictions = Counter(
            "streamwise_api_predictions_total",
            "Predictions served, by model.",
            ["model"],
            registry=registry,
        )
        self.predict_seconds = Histogram(
            "streamwise_api_predict_duration_seconds",
            "Time to answer one /predict request.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.freshness = Histogram(
            "streamwise_api_model_freshness_seconds",
            "At each snapshot load: wall time minus the event time of the newest reading the "
            "loaded model has seen (how stale a newly served model already is).",
            ["model"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
            registry=registry,
        )
        self.reloads = Counter(
            "streamwise_api_snapshot_loads_total",
            "Snapshot loads by the API, by outcome (loaded, rejected, error).",
            ["model", "outcome"],
            registry=registry,
        )


class ServedModelsCollector(Collector):
    """Reads the served models at scrape time, so a swapped model never leaves stale series."""

    def __init__(self, served: Callable[[], Iterable[Snapshot]]) -> None:
        self._served = served

    def collect(self) -> Iterator[Metric]:
        version = GaugeMetricFamily(
            "streamwise_served_model_version", "Snapshot version being served.", labels=["model"]
        )
        learned = GaugeMetricFamily(
            "streamwise_served_model_events_learned",
            "Events learned by the served model.",
            labels=["model"],
        )
        metric = GaugeMetricFamily(
            "streamwise_served_model_metric",
            "Progressive-validation metric of the served model (window: cumulative or rolling).",
            labels=["model", "metric", "window"],
        )
        created = GaugeMetricFamily(
            "streamwise_served_model_created_timestamp_seconds",
            "When the learner wrote the served snapshot (Unix time).",
            labels=["model"],
        )
        last_event = GaugeMetricFamily(
            "streamwise_served_model_last_event_timestamp_seconds",
            "Event time of the newest reading the served model has seen (Unix time); "
            "time() minus it is the served model's freshness.",
            labels=["model"],
        )
        for snap in self._served():
            version.add_metric([snap.model_id], snap.version)
            learned.add_metric([snap.model_id], snap.events_learned)
            created.add_metric([snap.model_id], snap.created_at)
            if snap.last_event_ts is not None:
                last_event.add_metric([snap.model_id], snap.last_event_ts)
            for window, values in snap.metric_values.items():
                for name, value in values.items():
                    if value is not None:
                        metric.add_metric([snap.model_id, name, window], value)
        yield from (version, learned, metric, created, last_event)
