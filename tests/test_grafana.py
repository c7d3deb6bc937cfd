"""Lint the Grafana dashboard and its provisioning: no Grafana, no network, milliseconds.

Every metric a PromQL expression names must be one streamwise exports. The exported names
and labels are read from ``streamwise/telemetry.py`` itself, by building its metric groups on
a fresh registry, so renaming a metric there fails this test until the dashboard follows.
tests/integration/test_prometheus.py runs the same expressions on a real Prometheus.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from streamwise.telemetry import ApiMetrics, LearnerMetrics, ServedModelsCollector
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
DASHBOARD_FILE = DEPLOY / "grafana" / "dashboards" / "streamwise.json"
DATASOURCE_FILE = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
PROVIDER_FILE = DEPLOY / "grafana" / "provisioning" / "dashboards" / "streamwise.yml"
PROMETHEUS_FILE = DEPLOY / "prometheus" / "prometheus.yml"
COMPOSE_FILE = ROOT / "docker-compose.yml"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

# Series Prometheus itself adds to every scrape, with the labels it gives them.
PROMETHEUS_MADE = {"up": frozenset(), "scrape_duration_seconds": frozenset()}
TARGET_LABELS = frozenset({"job", "instance"})
# Grafana variables, replaced by values that keep an expression valid PromQL (the integration
# test runs them like this).
GRAFANA_VARIABLES = {
    "$__rate_interval": "30s",
    "$__interval": "5s",
    "$__range": "5m",
    "$model": ".*",
    "$sensor": ".*",
}
# What the dashboard must show (docs/operations.md, "Metrics"): one family per theme.
REQUIRED = {
    "throughput": "streamwise_stream_records_total",
    "throughput per model": "streamwise_learner_events_total",
    "dead letters": "streamwise_learner_dead_letters_total",
    "freshness": "streamwise_served_model_created_timestamp_seconds",
    "snapshot version": "streamwise_learner_snapshot_version",
    "served version": "streamwise_served_model_version",
    "predict latency": "streamwise_api_predict_duration_seconds_bucket",
    "snapshot latency": "streamwise_learner_snapshot_duration_seconds_bucket",
    "model metrics": "streamwise_learner_metric",
    "stream profile": "streamwise_stream_sensor_value",
}

_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and"}
    | {"or", "unless", "atan2", "inf", "nan", "start", "end"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_SELECTOR = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_IDENTIFIER = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(\s*\()?")
_LEGEND_LABEL = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<expr>.+?)\s*,\s*)?(?P<label>\w+)\s*\)\s*$")


# ------------------------------------------------------------------------------------------
# what streamwise exports


def _wrappers(group: object) -> Iterator[MetricWrapperBase]:
    """The metric objects of a telemetry group, nested groups included."""
    for value in vars(group).values():
        if isinstance(value, MetricWrapperBase):
            yield value
        elif type(value).__module__ == "streamwise.telemetry":
            yield from _wrappers(value)


def _series(name: str, kind: str, labels: frozenset[str]) -> dict[str, frozenset[str]]:
    """The sample names of one family, as Prometheus stores them, with their labels."""
    if kind == "counter":
        return {f"{name}_total": labels}
    if kind == "histogram":
        return {f"{name}_bucket": labels | {"le"}, f"{name}_count": labels, f"{name}_sum": labels}
    if kind == "summary":
        return {name: labels | {"quantile"}, f"{name}_count": labels, f"{name}_sum": labels}
    return {name: labels}


@functools.cache
def exported_families() -> dict[str, tuple[str, frozenset[str]]]:
    """Every metric family streamwise exports: name as documented -> (type, label names).

    Counters are named with their ``_total``, histograms by their base name.
    """
    registry = CollectorRegistry()
    groups = (LearnerMetrics(registry), ApiMetrics(registry))
    labels = {
        wrapper._name: frozenset(wrapper._labelnames)  # the labels each metric was declared with
        for group in groups
        for wrapper in _wrappers(group)
    }
    served = SimpleNamespace(
        model_id="m",
        version=1,
        events_learned=1,
        created_at=1.0,
        last_event_ts=1.0,
        metric_values={"cumulative": {"MAE": 1.0}},
    )
    registry.register(ServedModelsCollector(lambda: [served]))  # type: ignore[list-item]
    try:
        collected = list(registry.collect())
    except AttributeError as err:
        raise AssertionError(
            f"ServedModelsCollector reads a snapshot field the stand-in lacks ({err}): "
            "add it to `served` in tests/test_grafana.py"
        ) from err
    families: dict[str, tuple[str, frozenset[str]]] = {}
    for family in collected:
        found = labels.get(family.name)
        if found is None:  # a collector family: its labels are those of its samples
            found = frozenset(k for s in family.samples for k in s.labels)
        name = f"{family.name}_total" if family.type == "counter" else family.name
        families[name] = (family.type, found)
    return families


@functools.cache
def exported_series() -> dict[str, frozenset[str]]:
    """Every series name streamwise exports, with its label names, read from telemetry.py."""
    series: dict[str, frozenset[str]] = {}
    for name, (kind, labels) in exported_families().items():
        series |= _series(name.removesuffix("_total") if kind == "counter" else name, kind, labels)
    return series


# ------------------------------------------------------------------------------------------
# the dashboard's queries


@dataclass(frozen=True)
class Query:
    where: str
    expr: str
    legend: str = ""


def load_dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD_FILE.read_text())  # type: ignore[no-any-return]


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside collapsed rows; rows themselves excluded."""
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def dashboard_queries(dashboard: dict[str, Any] | None = None) -> list[Query]:
    """Every PromQL expression of the dashboard: panel targets and variable queries."""
    dashboard = dashboard if dashboard is not None else load_dashboard()
    found = [
        Query(
            f"panel {panel['title']!r} target {target.get('refId')}",
            target["expr"],
            target.get("legendFormat", ""),
        )
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable["query"]
        text = query["query"] if isinstance(query, dict) else query
        match = _LABEL_VALUES.match(text)
        assert match and match["expr"], f"variable {variable['name']}: use label_values(expr, x)"
        found.append(
            Query(f"variable {variable['name']}", match["expr"], f"{{{{{match['label']}}}}}")
        )
    return found


def concrete(expr: str) -> str:
    """``expr`` with Grafana's variables replaced, ready for Prometheus's query API."""
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, GRAFANA_VARIABLES[name])
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}: add it to GRAFANA_VARIABLES"
    return expr


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (function names, keywords and labels excluded).

    >>> sorted(metric_names('histogram_quantile(0.9, sum by (le) (rate(a_bucket{m=~"x"}[5m])))'))
    ['a_bucket']
    >>> sorted(metric_names('time() - b{m="1"} offset 1h > bool 0 or on(m) c'))
    ['b', 'c']
    """
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\boffset\s+-?[\w$]+", " ", text)
    return {m[1] for m in _IDENTIFIER.finditer(text) if not m[2] and m[1].lower() not in _KEYWORDS}


def known_series() -> dict[str, frozenset[str]]:
    return {**PROMETHEUS_MADE, **exported_series()}


# ------------------------------------------------------------------------------------------
# the dashboard


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return load_dashboard()


@pytest.fixture(scope="module")
def datasource() -> dict[str, Any]:
    sources = yaml.safe_load(DATASOURCE_FILE.read_text())["datasources"]
    assert len(sources) == 1, "one provisioned datasource: the dashboard names it by uid"
    return sources[0]  # type: ignore[no-any-return]


def test_exported_series_come_from_telemetry() -> None:
    # The derivation itself: one name of each kind, with suffixes and labels.
    exported = exported_series()
    assert exported["streamwise_learner_events_total"] == {"model", "outcome"}
    assert exported["streamwise_api_predict_duration_seconds_bucket"] == {"model", "le"}
    assert exported["streamwise_api_predict_duration_seconds_count"] == {"model"}
    assert exported["streamwise_learner_metric"] == {"model", "metric", "window"}
    assert exported["streamwise_served_model_metric"] == {"model", "metric", "window"}
    assert "streamwise_served_model_created_timestamp_seconds" in exported
    assert "streamwise_stream_sensor_value" in exported  # nested group (LearnerMetrics.stream)
    assert not any(name.endswith("_created") for name in exported)


def test_dashboard_identity(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "streamwise"
    assert dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert "id" not in dashboard or dashboard["id"] is None, "provisioned dashboards carry no id"


def test_panels_have_unique_ids_and_fit_the_grid(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in dashboard["panels"]] + [
        p["id"] for row in dashboard["panels"] for p in row.get("panels", [])
    ]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] >= 1 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[x, y]!r}"
                cells[x, y] = panel["title"]


def test_every_panel_queries_the_provisioned_datasource(
    dashboard: dict[str, Any], datasource: dict[str, Any]
) -> None:
    uid = datasource["uid"]
    assert datasource["type"] == "prometheus"
    for panel in panels(dashboard):
        title = panel["title"]
        targets = panel.get("targets") or []
        assert targets, f"panel {title!r} has no targets"
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, title
        ref_ids = [t["refId"] for t in targets]
        assert len(ref_ids) == len(set(ref_ids)), f"panel {title!r}: duplicate refIds"
        for target in targets:
            assert target.get("expr", "").strip(), f"panel {title!r}: empty expr"
            assert target.get("datasource", panel["datasource"])["uid"] == uid, title
    for variable in dashboard["templating"]["list"]:
        if variable.get("type") == "query":
            assert variable["datasource"]["uid"] == uid, variable["name"]


def test_every_metric_in_every_expression_is_exported(dashboard: dict[str, Any]) -> None:
    known = known_series()
    queries = dashboard_queries(dashboard)
    assert len(queries) > 20
    for query in queries:
        names = metric_names(query.expr)
        assert names, f"{query.where}: no metric in {query.expr!r}"
        unknown = sorted(names - known.keys())
        assert not unknown, (
            f"{query.where}: {unknown} not exported by streamwise/telemetry.py "
            f"(expression {query.expr!r})"
        )


def test_labels_in_expressions_and_legends_exist(dashboard: dict[str, Any]) -> None:
    known = known_series()
    for query in dashboard_queries(dashboard):
        text = _STRING.sub('""', query.expr)
        for name, matchers in _SELECTOR.findall(query.expr):
            used = set(_MATCHER.findall(_STRING.sub('""', matchers)))
            missing = used - known[name] - TARGET_LABELS
            assert not missing, f"{query.where}: {name} has no label {sorted(missing)}"
        available = TARGET_LABELS.union(*(known[n] for n in metric_names(query.expr)))
        for _, grouped in _GROUPING.findall(text):
            labels = {label.strip() for label in grouped.split(",") if label.strip()}
            assert labels <= available, f"{query.where}: grouping by {sorted(labels - available)}"
        legend = set(_LEGEND_LABEL.findall(query.legend))
        assert legend <= available, f"{query.where}: legend uses {sorted(legend - available)}"


def test_dashboard_covers_the_required_views(dashboard: dict[str, Any]) -> None:
    used = set().union(*(metric_names(q.expr) for q in dashboard_queries(dashboard)))
    missing = {theme: name for theme, name in REQUIRED.items() if name not in used}
    assert not missing, f"the dashboard shows nothing for {missing}"
    exprs = " ".join(q.expr for q in dashboard_queries(dashboard))
    assert "time() - streamwise_served_model_created_timestamp_seconds" in exprs
    assert exprs.count("histogram_quantile(") >= 2


def test_every_expression_becomes_concrete(dashboard: dict[str, Any]) -> None:
    for query in dashboard_queries(dashboard):
        concrete(query.expr)


def test_operations_doc_lists_every_exported_metric() -> None:
    """docs/operations.md, "Metrics": one table row per family, with its type and labels."""
    text = OPERATIONS_DOC.read_text()
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| ([^|]*) \|", section, flags=re.MULTILINE)
    documented = {
        name: (kind, frozenset(re.findall(r"`(\w+)`", labels))) for name, kind, labels in rows
    }
    exported = exported_families()
    assert documented.keys() - exported.keys() == set(), "documented but not exported"
    assert exported.keys() - documented.keys() == set(), "exported but not in docs/operations.md"
    for name, (kind, labels) in exported.items():
        assert documented[name] == (kind, labels), f"docs/operations.md row of {name}"


# ------------------------------------------------------------------------------------------
# provisioning, against docker-compose.yml and deploy/prometheus


@pytest.fixture(scope="module")
def compose_services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]  # type: ignore[no-any-return]


def bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Host path (relative to the repository) -> container path, for ``./`` bind mounts."""
    mounts = {}
    for volume in service.get("volumes") or []:
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            mounts[source[2:]] = target
    return mounts


def test_datasource_points_at_the_compose_prometheus(
    datasource: dict[str, Any], compose_services: dict[str, Any]
) -> None:
    url = datasource["url"]
    assert url == "http://prometheus:9090", url
    command = " ".join(compose_services["prometheus"]["command"])
    assert "--web.listen-address=:9090" in command
    scrape = yaml.safe_load(PROMETHEUS_FILE.read_text())["global"]["scrape_interval"]
    assert datasource["jsonData"]["timeInterval"] == scrape, "Grafana's $__rate_interval uses it"


def test_grafana_mounts_provisioning_and_dashboards(compose_services: dict[str, Any]) -> None:
    mounts = bind_mounts(compose_services["grafana"])
    assert mounts.get("deploy/grafana/provisioning") == "/etc/grafana/provisioning"
    providers = yaml.safe_load(PROVIDER_FILE.read_text())["providers"]
    assert [p["type"] for p in providers] == ["file"]
    assert mounts.get("deploy/grafana/dashboards") == providers[0]["options"]["path"]
    home = compose_services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{providers[0]['options']['path']}/{DASHBOARD_FILE.name}"
    prometheus = bind_mounts(compose_services["prometheus"])
    assert prometheus.get("deploy/prometheus/prometheus.yml") == "/etc/prometheus/prometheus.yml"


def test_targets_up_panel_names_the_scrape_jobs(dashboard: dict[str, Any]) -> None:
    jobs = {j["job_name"] for j in yaml.safe_load(PROMETHEUS_FILE.read_text())["scrape_configs"]}
    exprs = [q.expr for q in dashboard_queries(dashboard) if metric_names(q.expr) == {"up"}]
    assert exprs, "the dashboard shows whether the learner and the API are scraped"
    for expr in exprs:
        for job in jobs:
            assert job in expr, f"{expr!r} does not include job {job!r}"


def test_prometheus_config_is_valid() -> None:
    promtool = shutil.which("promtool") or (
        "/usr/bin/promtool" if os.access("/usr/bin/promtool", os.X_OK) else None
    )
    if promtool is None:
        message = "promtool is not installed; `scripts/services.sh up` installs Debian's prometheus"
        if IN_CI:
            pytest.fail(message + " — under CI=true a missing tool is a failure", pytrace=False)
        pytest.skip(message)
    result = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(PROMETHEUS_FILE)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_explains_every_exported_metric() -> None:
    """The README's Prometheus table names each family the system exports."""
    readme = (OPERATIONS_DOC.parents[1] / "README.md").read_text()
    missing = sorted(name for name in exported_families() if f"`{name}`" not in readme)
    assert missing == [], "exported but not in the README's Prometheus table"
