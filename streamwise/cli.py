"""The ``streamwise`` command: demo, produce, learn, serve, replay. The composition root."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    disable_created_metrics,
    start_http_server,
)
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.app import create_app
from api.security import ApiKeys
from ingest import dead_letters
from ingest import replay as replay_mod
from ingest.producer import publish, run_fleet
from ingest.simulator import Fleet
from learner.loop import Learner, StartAt
from streamwise import logs, registry
from streamwise import status as stack_status
from streamwise.adapters.memory import MemoryBroker, MemorySnapshotStore
from streamwise.clock import SystemClock
from streamwise.errors import ConfigError, ModelNotReady, StreamwiseError, UnknownModel
from streamwise.events import Command
from streamwise.feedback import Outbox
from streamwise.ports import Bus, SnapshotStore
from streamwise.settings import Settings
from streamwise.spec import ModelSpec
from streamwise.telemetry import LearnerMetrics
from streamwise.wiring import build_bus, build_store

app = typer.Typer(
    help="Streaming online learning for IoT sensor data (Kafka -> River -> Redis -> FastAPI).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
log = logging.getLogger("streamwise")


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj  # type: ignore[no-any-return]


@app.callback()
def main(
    ctx: typer.Context,
    spec: Annotated[
        list[Path] | None,
        typer.Option(help="model spec file (repeatable); overrides STREAMWISE_SPECS"),
    ] = None,
) -> None:
    """Settings come from STREAMWISE_* environment variables (see README: Configuration)."""
    overrides: dict[str, object] = {"specs": spec} if spec else {}
    try:
        settings = Settings.load(**overrides)
    except StreamwiseError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    # A newcomer's `streamwise demo` reads better as text; services log JSON unless told not to.
    as_json = (
        settings.log_json
        if "log_json" in settings.model_fields_set
        else (ctx.invoked_subcommand != "demo")
    )
    logs.configure(settings.log_level, as_json)
    disable_created_metrics()  # *_created series double every counter for no dashboard use
    ctx.obj = settings


def _learner(
    settings: Settings,
    bus: Bus,
    store: object,
    key: bytes,
    registry: CollectorRegistry,
    start_at: StartAt | None = None,
) -> Learner:
    return Learner(
        settings.model_specs(),
        bus,
        store,  # type: ignore[arg-type]
        key,
        topics=settings.topics,
        clock=SystemClock(),
        every_events=settings.snapshot.every_events,
        every_seconds=settings.snapshot.every_seconds,
        max_poll_records=settings.kafka.max_poll_records,
        poll_timeout_s=settings.learner.poll_timeout_s,
        metrics=LearnerMetrics(registry),
        quality=settings.quality,
        start_at=start_at,
    )


def _api(
    settings: Settings,
    store: SnapshotStore,
    key: bytes,
    bus: Bus | None,
    multiprocess: bool = False,
) -> FastAPI:
    return create_app(
        settings.model_specs(),
        store,
        key,
        SystemClock(),
        registry=REGISTRY,
        reload_interval_s=settings.api.reload_interval_s,
        max_batch=settings.api.max_batch,
        catalog=settings.quality.catalog(),
        outbox=Outbox(bus, settings.topics) if bus is not None else None,
        multiprocess=multiprocess,
        api_keys=ApiKeys(
            [k.get_secret_value() for k in settings.api.keys],
            [k.get_secret_value() for k in settings.api.admin_keys],
            settings.api.public_predictions,
        ),
    )


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _fail(err: StreamwiseError) -> typer.Exit:
    console.print(f"[red]error:[/red] {err}")
    return typer.Exit(1)


@app.command()
def demo(
    ctx: typer.Context,
    devices: Annotated[int, typer.Option(min=1, help="simulated devices")] = 20,
    rate: Annotated[float, typer.Option(min=0.1, help="readings per second, whole fleet")] = 50.0,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 0,
) -> None:
    """Everything in one process, in memory: simulated fleet -> learner -> API and metrics."""
    settings = _settings(ctx)
    if settings.bus != "memory" or settings.store != "memory":
        console.print("[yellow]demo always runs in memory; ignoring STREAMWISE_BUS/STORE[/yellow]")
        settings = settings.model_copy(update={"bus": "memory", "store": "memory"})
    try:
        broker, memory_store = MemoryBroker(settings.kafka.partitions), MemorySnapshotStore()
        store = build_store(settings, memory_store)
        key = settings.snapshot_key()
        learner = _learner(settings, build_bus(settings, broker), store, key, REGISTRY)
        learner.start()
        api = _api(settings, store, key, build_bus(settings, broker))
    except StreamwiseError as err:
        raise _fail(err) from None

    stop = threading.Event()
    producer_bus = build_bus(settings, broker)
    threads = [
        threading.Thread(target=learner.run, args=(stop,), name="learner", daemon=True),
        threading.Thread(
            target=run_fleet,
            kwargs={
                "bus": producer_bus,
                "topic": settings.topics.readings,
                "fleet": Fleet(devices, seed=seed),
                "rate": rate,
                "duration_s": 0,
                "clock": SystemClock(),
                "should_stop": stop.is_set,
            },
            name="producer",
            daemon=True,
        ),
    ]
    for thread in threads:
        thread.start()
    base = f"http://{settings.api.host}:{settings.api.port}"
    console.print(
        f"[bold green]streamwise demo[/bold green]: {devices} simulated devices at {rate:g} "
        f"readings/s -> learner ({', '.join(s.model_id for s in settings.model_specs())}) -> API\n"
        f"  dashboard     {base}/dashboard\n"
        f"  API docs      {base}/docs\n"
        f"  model+metrics {base}/models\n"
        f"  Prometheus    {base}/metrics\n"
        f"  try: curl -s -X POST {base}/predict -H 'content-type: application/json' "
        '-d \'{"values": {"temp_c": 31, "humidity_pct": 40, "vibration_mm_s": 7.5, '
        '"power_w": 290}}\'\n'
        "Ctrl-C stops.",
        soft_wrap=True,  # keep the curl line whole, for copy and paste
    )
    server = uvicorn.Server(
        uvicorn.Config(
            api, host=settings.api.host, port=settings.api.port, log_config=None, access_log=False
        )
    )
    try:
        server.run()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


@app.command()
def produce(
    ctx: typer.Context,
    devices: Annotated[int, typer.Option(min=1, help="simulated devices")] = 20,
    rate: Annotated[float, typer.Option(min=0.1, help="readings per second, whole fleet")] = 100.0,
    duration: Annotated[float, typer.Option(min=0, help="seconds; 0 runs until stopped")] = 60.0,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 0,
) -> None:
    """Publish a simulated fleet's readings to the readings topic (acks=all, batched)."""
    settings = _settings(ctx)
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        bus = build_bus(settings)
        total = int(rate * duration) if duration else None
        with _progress() as progress:
            task = progress.add_task("producing", total=total)
            sent = run_fleet(
                bus,
                settings.topics.readings,
                Fleet(devices, seed=seed),
                rate,
                duration,
                SystemClock(),
                on_progress=lambda n: progress.update(task, completed=n),
                should_stop=stop.is_set,
            )
        bus.close()
    except StreamwiseError as err:
        raise _fail(err) from None
    log.info("produced", extra={"readings": sent, "topic": settings.topics.readings})


@app.command()
def replay(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option(help="river:<Name>, a dataset bundled with River")],
    limit: Annotated[int | None, typer.Option(min=1, help="stop after this many samples")] = None,
) -> None:
    """Stream a River dataset through the bus in order (target travels as label "y")."""
    settings = _settings(ctx)
    try:
        total = replay_mod.load_dataset(dataset).n_samples
        bus = build_bus(settings)
        with _progress() as progress:
            task = progress.add_task(f"replaying {dataset}", total=min(total, limit or total))
            sent = 0
            for reading in replay_mod.readings(dataset, limit):
                sent += publish(bus, settings.topics.readings, [reading])
                if sent % 1000 == 0:
                    progress.update(task, completed=sent)
            bus.flush(timeout_s=60.0)
            progress.update(task, completed=sent)
        bus.close()
    except StreamwiseError as err:
        raise _fail(err) from None
    log.info("replayed", extra={"dataset": dataset, "readings": sent})


@app.command()
def learn(
    ctx: typer.Context,
    from_time: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"],
            help="new models start at the first record written at or after this time "
            "(UTC if no zone): a backfill",
        ),
    ] = None,
    from_offset: Annotated[
        int | None, typer.Option(min=0, help="new models start at this offset of every partition")
    ] = None,
    from_end: Annotated[
        bool, typer.Option(help="new models learn only records written from now on")
    ] = False,
) -> None:
    """Consume readings, predict -> score -> learn, and snapshot models with their offsets.

    Models that have a snapshot always resume from it; the --from-* options place models that
    have none yet (default: the beginning of the topic).
    """
    settings = _settings(ctx)
    chosen = [o for o in (from_time, from_offset) if o is not None] + ([True] if from_end else [])
    if len(chosen) > 1:
        raise _fail(ConfigError("give at most one of --from-time, --from-offset, --from-end"))
    start_at = None
    if chosen:
        when = from_time.replace(tzinfo=from_time.tzinfo or dt.UTC) if from_time else None
        start_at = StartAt(
            time_ms=int(when.timestamp() * 1000) if when else None,
            offset=from_offset,
            end=from_end,
        )
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        if settings.learner.metrics_port:
            start_http_server(settings.learner.metrics_port, addr=settings.learner.metrics_host)
        bus = build_bus(settings)
        store, key = build_store(settings), settings.snapshot_key()
        learner = _learner(settings, bus, store, key, REGISTRY, start_at)
        learner.start()
        learner.run(stop)
        bus.close()
    except StreamwiseError as err:
        raise _fail(err) from None


@app.command()
def serve(ctx: typer.Context) -> None:
    """Serve predictions, models and metrics over HTTP from the snapshot store."""
    settings = _settings(ctx)
    api = settings.api
    if api.workers > 1:
        _serve_workers(settings)
        return
    try:
        app_ = _api_from(settings, multiprocess=False)
    except StreamwiseError as err:
        raise _fail(err) from None
    uvicorn.run(app_, host=api.host, port=api.port, log_config=None, access_log=False)


def _api_from(settings: Settings, multiprocess: bool) -> FastAPI:
    # Admin commands go to the learner through the bus; Kafka's producer connects lazily.
    bus = build_bus(settings) if settings.bus == "kafka" else None
    return _api(settings, build_store(settings), settings.snapshot_key(), bus, multiprocess)


def _serve_workers(settings: Settings) -> None:
    """Several server processes on one port; their request metrics add up in shared files."""
    if settings.store == "memory":
        raise _fail(ConfigError("API__WORKERS > 1 needs a shared store (STREAMWISE_STORE=redis)"))
    with tempfile.TemporaryDirectory(prefix="streamwise-metrics-") as metrics_dir:
        # Read by prometheus_client when each worker imports it, and by the factory.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        os.environ["STREAMWISE_SPECS"] = json.dumps([str(p) for p in settings.specs])
        uvicorn.run(
            "streamwise.cli:api_for_worker",
            factory=True,
            workers=settings.api.workers,
            host=settings.api.host,
            port=settings.api.port,
            log_config=None,
            access_log=False,
        )


def api_for_worker() -> FastAPI:
    """The app of one ``serve`` worker process, built from the environment its parent set."""
    settings = Settings.load()
    logs.configure(
        settings.log_level, settings.log_json if "log_json" in settings.model_fields_set else True
    )
    disable_created_metrics()
    return _api_from(settings, multiprocess=True)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="the report as one JSON object")] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds per HTTP check")] = 2.0,
) -> None:
    """Health of the whole stack: bus, store, learner, API, and each model. Exit 1 if not ok."""
    report = stack_status.gather(_settings(ctx), SystemClock(), timeout)
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        raise typer.Exit(0 if report.ok else 1)
    out = Console()
    marks = {True: "[green]ok[/green]", False: "[red]FAIL[/red]", None: "[dim]n/a[/dim]"}
    table = Table(title="streamwise status")
    for column in ("component", "status", "detail"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        table.add_row(check.name, marks[check.ok], check.detail)
    out.print(table)
    models = Table(title="models")
    for column in ("model", "version", "champion", "learned", "snapshot age", "freshness", "lag"):
        models.add_column(column, justify="left" if column in ("model", "champion") else "right")
    lines = []
    for m in report.models:
        if not m["ok"]:
            models.add_row(m["model_id"], "[red]-[/red]", "", "", "", "", "")
            lines.append(f"{m['model_id']}: [red]{m.get('detail', '')}[/red]")
            continue
        models.add_row(
            m["model_id"],
            f"v{m['version']}",
            m["champion"] or "",
            str(m["events_learned"]),
            f"{m['snapshot_age_s']:.1f} s",
            "-" if m["freshness_s"] is None else f"{m['freshness_s']:.1f} s",
            str(m.get("lag", "-")),
        )
        metrics = ", ".join(
            f"{name} {value:.4g}"
            + {True: " (met)", False: " (not met)", None: ""}[m["success"].get(name)]
            for name, value in m["rolling"].items()
            if value is not None
        )
        lines.append(f"{m['model_id']} rolling: {metrics}")
    out.print(models)
    for line in lines:
        out.print(line)
    out.print("[green]all ok[/green]" if report.ok else "[red]not all ok[/red]")
    raise typer.Exit(0 if report.ok else 1)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """The benchmark suite (bench/, in a source checkout): same options as `python -m bench`.

    For example ``streamwise bench --quick`` or ``streamwise bench --only api``; it needs the
    real stack of ``make up`` and the bench extras (``make bench`` installs them).
    """
    root = Path(__file__).resolve().parents[1]
    if not (root / "bench" / "__main__.py").is_file():
        console.print("[red]error:[/red] the benchmark suite lives in the source tree (bench/)")
        raise typer.Exit(2)
    raise typer.Exit(subprocess.call([sys.executable, "-m", "bench", *ctx.args], cwd=root))


dlq_app = typer.Typer(help="Inspect and replay the dead-letter topic.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


@dlq_app.command("inspect")
def dlq_inspect(
    ctx: typer.Context,
    reason: Annotated[str | None, typer.Option(help="only this reason code")] = None,
    show: Annotated[int, typer.Option(min=0, help="how many of the latest letters to list")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per letter")] = False,
) -> None:
    """Count dead letters by reason and show the latest ones."""
    settings = _settings(ctx)
    try:
        bus = build_bus(settings)
        letters = [
            d
            for d in dead_letters.read_all(bus, settings.topics.dead_letters)
            if reason is None or d.reason == reason
        ]
        bus.close()
    except StreamwiseError as err:
        raise _fail(err) from None
    if as_json:
        for letter in letters:
            typer.echo(letter.model_dump_json())
        return
    out = Console()
    counts = Counter(d.reason for d in letters)
    summary = Table(title=f"{settings.topics.dead_letters}: {len(letters)} dead letters")
    summary.add_column("reason")
    summary.add_column("count", justify="right")
    for name, count in counts.most_common():
        summary.add_row(name, str(count))
    out.print(summary)
    if show and letters:
        latest = Table(title=f"latest {min(show, len(letters))}")
        for column in ("source", "reason", "detail", "key", "rejected at", "message"):
            latest.add_column(column, overflow="fold")
        for d in letters[-show:]:
            latest.add_row(
                f"{d.topic}/{d.partition}@{d.offset}",
                d.reason,
                d.detail,
                d.key or "",
                d.rejected_at.isoformat(timespec="seconds"),
                repr(d.original()[:80]),
            )
        out.print(latest)


@dlq_app.command("replay")
def dlq_replay(
    ctx: typer.Context,
    reason: Annotated[str | None, typer.Option(help="only letters with this reason")] = None,
    dry_run: Annotated[bool, typer.Option(help="count what would be replayed")] = False,
) -> None:
    """Publish dead letters back to their source topic, e.g. after widening the catalog."""
    settings = _settings(ctx)
    try:
        bus = build_bus(settings)
        letters = dead_letters.read_all(bus, settings.topics.dead_letters)
        if dry_run:
            count = sum(1 for d in letters if reason is None or d.reason == reason)
        else:
            count = dead_letters.replay(
                bus, letters, lambda d: reason is None or d.reason == reason
            )
        bus.close()
    except StreamwiseError as err:
        raise _fail(err) from None
    log.info(
        "dead letters replayed" if not dry_run else "dead letters to replay",
        extra={"count": count, "reason": reason},
    )


models_app = typer.Typer(
    help="The model registry: versions, champion and challengers, promote, rollback.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


def _spec_of(settings: Settings, model_id: str) -> ModelSpec:
    """The configured spec of a model id, or :class:`UnknownModel`."""
    for spec in settings.model_specs():
        if spec.model_id == model_id:
            return spec
    known = [s.model_id for s in settings.model_specs()]
    raise UnknownModel(f"no configured model {model_id!r}; configured: {known}")


def _metric_text(values: dict[str, dict[str, float | None]], name: str) -> str:
    rolling = values.get("rolling", {}).get(name)
    cumulative = values.get("cumulative", {}).get(name)
    return " / ".join("-" if v is None else f"{v:.4g}" for v in (rolling, cumulative))


@models_app.command("list")
def models_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per model")] = False,
) -> None:
    """Every configured model: latest version, champion, and each candidate's score."""
    settings = _settings(ctx)
    try:
        store, key = build_store(settings), settings.snapshot_key()
        entries = []
        for spec in settings.model_specs():
            try:
                entry = registry.describe(registry.load(store, key, spec.model_id))
            except ModelNotReady:
                entry = {"model_id": spec.model_id, "version": None}
            entry["retained"] = store.versions(spec.model_id)
            entry["selection_metric"] = spec.selection_metric
            entries.append(entry)
    except StreamwiseError as err:
        raise _fail(err) from None
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry))
        return
    table = Table(title="models (metric: rolling / cumulative)")
    for column in ("model", "version", "champion", "candidates", "events learned", "retained"):
        table.add_column(column)
    for e in entries:
        if e["version"] is None:
            table.add_row(e["model_id"], "-", "-", "no snapshot yet", "-", "-")
            continue
        metric = e["selection_metric"]
        candidates = "\n".join(
            f"{'* ' if name == e['champion'] else '  '}{name}: {metric} "
            f"{_metric_text(c['metrics'], metric)}"
            for name, c in e["candidates"].items()
        )
        retained = e["retained"]
        table.add_row(
            e["model_id"],
            str(e["version"]),
            e["champion"],
            candidates,
            str(e["events_learned"]),
            f"{len(retained)} (v{retained[0]}..v{retained[-1]})" if retained else "0",
        )
    Console().print(table)


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="model id")],
    version: Annotated[int | None, typer.Option(min=1, help="a retained version")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """One version of a model: lineage, candidates with every metric, lifecycle events."""
    settings = _settings(ctx)
    try:
        spec = _spec_of(settings, model_id)
        store = build_store(settings)
        entry = registry.describe(registry.load(store, settings.snapshot_key(), model_id, version))
        entry["retained"] = store.versions(model_id)
    except StreamwiseError as err:
        raise _fail(err) from None
    if as_json:
        typer.echo(json.dumps(entry))
        return
    out = Console()
    lineage = entry["lineage"]
    out.print(
        f"[bold]{model_id}[/bold] v{entry['version']}  champion [bold]{entry['champion']}[/bold]"
        f"  events learned {entry['events_learned']}  parent v{lineage.get('parent')} "
        f"({lineage.get('reason', '?')})  retained {entry['retained']}"
    )
    table = Table(title="candidates (rolling / cumulative)")
    table.add_column("candidate")
    for name in spec.metrics:
        table.add_column(name, justify="right")
    table.add_column("learned", justify="right")
    table.add_column("drifts", justify="right")
    table.add_column("ahead", justify="right")
    for name, c in entry["candidates"].items():
        table.add_row(
            f"{'* ' if name == entry['champion'] else ''}{name}",
            *(_metric_text(c["metrics"], m) for m in spec.metrics),
            str(c["events_learned"]),
            str(c["drifts"]),
            str(c["ahead"]),
        )
    out.print(table)
    if entry["lifecycle"]:
        events = Table(title="lifecycle (latest 10)")
        for column in ("at event", "kind", "detail"):
            events.add_column(column, overflow="fold")
        for event in entry["lifecycle"][-10:]:
            rest = {k: v for k, v in event.items() if k not in ("kind", "at_event", "event_ts")}
            events.add_row(str(event["at_event"]), event["kind"], json.dumps(rest))
        out.print(events)


def _command(settings: Settings, command: Command, wait_s: float) -> None:
    """Send a command to the learner; with ``wait_s``, report what it did with it."""
    store = build_store(settings)
    bus = build_bus(settings)
    Outbox(bus, settings.topics).command(command)
    bus.close()
    console.print(f"sent {command.action} for {command.model_id} (request {command.request_id})")
    if not wait_s:
        return
    event = registry.outcome(
        store, settings.snapshot_key(), command.model_id, command.request_id, SystemClock(), wait_s
    )
    if event is None:
        raise StreamwiseError(
            f"no learner applied the command within {wait_s:g} s; is `streamwise learn` "
            "running? It will apply it when it reads the control topic"
        )
    if event["kind"] == "refused":
        raise StreamwiseError(f"the learner refused it: {event['reason']}")
    console.print(f"[green]done[/green]: {json.dumps(event)}")


@models_app.command("promote")
def models_promote(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="model id")],
    candidate: Annotated[str, typer.Argument(help="the candidate to make champion")],
    wait: Annotated[float, typer.Option(min=0, help="seconds to wait for the learner; 0: no")] = 30,
) -> None:
    """Make a candidate the champion: the learner applies it, the API serves it next."""
    settings = _settings(ctx)
    try:
        spec = _spec_of(settings, model_id)
        spec.candidate(candidate)
        command = registry.new_command(
            SystemClock(), action="promote", model_id=model_id, candidate=candidate
        )
        _command(settings, command, wait)
    except StreamwiseError as err:
        raise _fail(err) from None


@models_app.command("rollback")
def models_rollback(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="model id")],
    to: Annotated[
        int | None, typer.Option(min=1, help="version; default: the one before the last promotion")
    ] = None,
    wait: Annotated[float, typer.Option(min=0, help="seconds to wait for the learner; 0: no")] = 30,
) -> None:
    """Return a model (all candidates, and its champion) to a retained version."""
    settings = _settings(ctx)
    try:
        _spec_of(settings, model_id)
        command = registry.new_command(
            SystemClock(), action="rollback", model_id=model_id, to_version=to
        )
        _command(settings, command, wait)
    except StreamwiseError as err:
        raise _fail(err) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
