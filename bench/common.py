"""What every benchmark shares: result rows, the run context (unique names, cleanup), helpers.

A run owns a unique *stem* (``bench-<hex>`` from the CLI, the ``services`` fixture's key prefix
in tests). Every topic, consumer group and Redis key the run creates starts with it, and
:meth:`Context.cleanup` deletes exactly those, so runs never touch each other's data.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.progress import Progress

from learner.loop import Learner
from streamwise.clock import SystemClock
from streamwise.ports import Bus, SnapshotStore
from streamwise.settings import KafkaSettings, RedisSettings, Settings, TopicSettings
from streamwise.spec import ModelSpec
from streamwise.telemetry import LearnerMetrics

ROOT = Path(__file__).resolve().parent.parent

#: A target is checked against the ratio (ours / baseline) or against our absolute figure.
TargetKind = Literal["ratio_at_least", "ratio_at_most", "ours_at_most"]


class BenchError(RuntimeError):
    """A benchmark could not run (a service, a tool or a subprocess failed)."""


@dataclass(frozen=True)
class Target:
    """A goal from issue 8, e.g. ratio at least 0.8, or p99 at most 1000 ms."""

    kind: TargetKind
    value: float

    def met(self, ratio: float, ours: float) -> bool:
        if self.kind == "ratio_at_least":
            return ratio >= self.value
        if self.kind == "ratio_at_most":
            return ratio <= self.value
        return ours <= self.value

    def text(self, unit: str) -> str:
        if self.kind == "ratio_at_least":
            return f"≥ {self.value:g}×"
        if self.kind == "ratio_at_most":
            return f"≤ {self.value:g}×"
        return f"≤ {self.value:g} {unit}"


@dataclass
class Row:
    """One comparison: our figure, the baseline measured in the same run, and their ratio.

    ``ratio`` is always ``ours / baseline``; ``higher_is_better`` says how to read it
    (throughput: higher; latency and memory: lower).

    Examples
    --------
    >>> row = Row("learner", "LogReg", "events/s", "bare River", 100.0, 80.0,
    ...           target=Target("ratio_at_least", 0.8))
    >>> row.ratio, row.met
    (0.8, True)
    """

    bench: str
    case: str
    unit: str
    baseline_name: str
    baseline: float
    ours: float
    higher_is_better: bool = True
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.baseline == 0 or not math.isfinite(self.baseline) or not math.isfinite(self.ours):
            return math.nan
        return self.ours / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.target.met(self.ratio, self.ours)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = self.target.text(self.unit) if self.target else None
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


@dataclass
class Context:
    """Everything a benchmark needs: base settings, unique names, output, and what to clean up.

    Parameters
    ----------
    settings
        Where Kafka and Redis are, plus the defaults (snapshot policy, linger, batch size)
        that the benchmarks measure.
    stem
        Unique to this run; every topic, group and Redis key created starts with it.
    quick
        The short mode (smoke test, ``make bench-quick``).
    """

    settings: Settings
    stem: str
    quick: bool
    console: Console
    progress: Progress
    workdir: Path
    plot_path: Path | None = None
    kafka_jars: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)
    _topics: set[str] = field(default_factory=set)
    _groups: set[str] = field(default_factory=set)
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def pick(self, quick: Any, full: Any) -> Any:
        """The quick-mode or the full-mode value of a workload size."""
        return quick if self.quick else full

    def key(self) -> bytes:
        return self.settings.snapshot_key()

    def topic(self, name: str) -> str:
        """A topic name unique to this run (deleted by :meth:`cleanup`)."""
        topic = f"{self.stem}.{name}"
        self._topics.add(topic)
        return topic

    def topics(self, name: str) -> TopicSettings:
        """Readings and dead-letter topics for one benchmark case."""
        return TopicSettings(
            readings=self.topic(f"{name}.readings"),
            labels=self.topic(f"{name}.labels"),
            dead_letters=self.topic(f"{name}.dlq"),
        )

    def kafka(self, name: str) -> KafkaSettings:
        """The base Kafka settings with a consumer group unique to ``name``."""
        group = f"{self.stem}.{name}"
        self._groups.add(group)
        return self.settings.kafka.model_copy(update={"group_id": group})

    def redis(self, name: str) -> RedisSettings:
        """The base Redis settings with a key prefix unique to ``name``."""
        return self.settings.redis.model_copy(update={"key_prefix": f"{self.stem}:{name}"})

    def env(
        self, topics: TopicSettings, kafka: KafkaSettings, redis: RedisSettings
    ) -> dict[str, str]:
        """The environment of a ``python -m streamwise ...`` subprocess of this run.

        The caller's STREAMWISE_* settings pass through; this run's services, names and key
        replace theirs.
        """
        env = dict(os.environ)
        env.update(
            {
                "STREAMWISE_BUS": "kafka",
                "STREAMWISE_STORE": "redis",
                "STREAMWISE_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "STREAMWISE_KAFKA__GROUP_ID": kafka.group_id,
                "STREAMWISE_KAFKA__PARTITIONS": str(kafka.partitions),
                "STREAMWISE_REDIS__URL": redis.url.get_secret_value(),
                "STREAMWISE_REDIS__KEY_PREFIX": redis.key_prefix,
                "STREAMWISE_TOPICS__READINGS": topics.readings,
                "STREAMWISE_TOPICS__LABELS": topics.labels,
                "STREAMWISE_TOPICS__DEAD_LETTERS": topics.dead_letters,
                "STREAMWISE_SNAPSHOT__KEY": self.key().decode(),
                "STREAMWISE_LEARNER__METRICS_PORT": "0",
                "STREAMWISE_LOG_JSON": "true",
            }
        )
        return env

    @contextlib.contextmanager
    def process(
        self, name: str, args: Sequence[str], env: dict[str, str] | None = None
    ) -> Iterator[subprocess.Popen[bytes]]:
        """Run ``python <args>`` from the repository root; its output goes to a log file.

        Stopped with SIGTERM (then SIGKILL after 20 s) when the block ends.
        """
        log_path = self.workdir / f"{name}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env=env if env is not None else dict(os.environ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._procs.append(proc)
        try:
            yield proc
        finally:
            stop_process(proc)
            self._procs.remove(proc)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def cleanup(self) -> None:
        """Delete this run's topics, consumer groups and Redis keys (only those)."""
        for proc in list(self._procs):
            stop_process(proc)
        _delete_kafka(self.settings.kafka.bootstrap_servers, self._topics, self._groups)
        _delete_redis(self.settings.redis, f"{self.stem}:")
        self._topics.clear()
        self._groups.clear()


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _delete_kafka(bootstrap: str, topics: set[str], groups: set[str]) -> None:
    # The benchmarks need deletes that the Bus port does not offer; kafka-python directly.
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    except KafkaError:
        return
    try:
        existing = sorted(set(admin.list_topics()) & topics)
        if existing:
            admin.delete_topics(existing, raise_errors=False)
        if groups:
            with contextlib.suppress(KafkaError):
                admin.delete_groups(sorted(groups))  # unknown groups answer per group, no raise
    finally:
        admin.close()


def _delete_redis(settings: RedisSettings, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(settings.url.get_secret_value())
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def make_learner(
    specs: Sequence[ModelSpec],
    bus: Bus,
    store: SnapshotStore,
    settings: Settings,
    topics: TopicSettings,
    *,
    every_events: int | None = None,
    every_seconds: float | None = None,
) -> Learner:
    """A learner built as ``streamwise learn`` builds it (same defaults, Prometheus metrics on).

    Mirrors ``streamwise.cli._learner``, except that specs, topics and, when given, the
    snapshot policy come from the caller.
    """
    s = settings
    return Learner(
        specs,
        bus,
        store,
        s.snapshot_key(),
        topics=topics,
        clock=SystemClock(),
        every_events=s.snapshot.every_events if every_events is None else every_events,
        every_seconds=s.snapshot.every_seconds if every_seconds is None else every_seconds,
        max_poll_records=s.kafka.max_poll_records,
        poll_timeout_s=s.learner.poll_timeout_s,
        metrics=LearnerMetrics(CollectorRegistry()),
        quality=s.quality,
    )


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default), from /proc."""
    with open(f"/proc/{pid or 'self'}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank; NaN for no values.

    Examples
    --------
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 99)
    (2.0, 4.0)
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.05
) -> Any:
    """Poll ``check`` until truthy; :class:`BenchError` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval_s)
    raise BenchError(f"timed out after {timeout_s:g}s waiting for {what}")


def unique_stem() -> str:
    return f"bench-{secrets.token_hex(5)}"


def best(values: Sequence[float], higher_is_better: bool = True) -> float:
    """Best of repeated measurements: on a shared machine noise only ever slows a run down."""
    return max(values) if higher_is_better else min(values)
