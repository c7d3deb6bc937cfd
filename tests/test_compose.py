"""Lint docker-compose.yml and the Dockerfile: no Docker, no network, a few milliseconds.

No Docker engine runs where these files are written, so this test is what stops a renamed
setting, a port published on every interface, or a learner and API signing with different keys.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import BaseModel

from streamwise.cli import app as cli_app
from streamwise.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"

PREFIX = "STREAMWISE_"
APP_SERVICES = ("learner", "api", "producer")
# Third-party images watching the app services (deploy/prometheus, deploy/grafana).
OBSERVABILITY_SERVICES = ("prometheus", "grafana")
KEY_VAR = "STREAMWISE_SNAPSHOT__KEY"
# The Typer app's registered commands: renaming one breaks this test.
CLI_COMMANDS = frozenset(
    command.name or (command.callback.__name__ if command.callback else "")
    for command in cli_app.registered_commands
)
# Host variables the compose file may require (`${NAME}` / `${NAME:?...}`), with test values.
HOST_ENV = {"STREAMWISE_SNAPSHOT__KEY": "compose-test-key-0123456789abcdef"}
# Which setting each publishing service binds: (section, host field, port field).
LISTENERS = {"api": ("api", "host", "port"), "learner": ("learner", "metrics_host", "metrics_port")}

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_]\w*))"
)


# ------------------------------------------------------------------------------------------
# helpers


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key repeated in one mapping, as Compose does (PyYAML keeps the
    last one silently). Keys brought in by a `<<` merge may still be overridden."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.load(COMPOSE_FILE.read_text(), Loader=_StrictLoader)  # a SafeLoader subclass
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict) and found, "docker-compose.yml defines no services"
    return found


def environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's `environment`, list or mapping form, as a dict (None: taken from the host)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {p[0]: (p[1] if len(p) == 2 else None) for p in pairs}
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def interpolate(value: str, host: Mapping[str, str] = HOST_ENV) -> str:
    """Resolve Compose `${...}` interpolation the way `docker compose config` would."""

    def resolve(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        name = m["braced"] or m["named"]
        op, arg = m["op"] or "", m["arg"] or ""
        current = host.get(name)
        is_set = current is not None and (current != "" or not op.startswith(":"))
        if op.endswith("-"):
            return current if is_set and current is not None else arg
        if op.endswith("+"):
            return arg if is_set else ""
        if current is None:
            raise AssertionError(f"docker-compose.yml needs host variable {name}: add to HOST_ENV")
        return current

    return _INTERPOLATION.sub(resolve, value)


def setting_env_names(model: type[BaseModel] = Settings, prefix: str = PREFIX) -> set[str]:
    """Every environment variable name Settings reads, nested sections joined with `__`."""
    names: set[str] = set()
    for field_name, field in model.model_fields.items():
        env_name = f"{prefix}{field_name.upper()}"
        names.add(env_name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= setting_env_names(annotation, env_name + "__")
    return names


def settings_for(service: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Build Settings exactly from the service's (interpolated) environment, nothing else."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    for name, value in environment(service).items():
        if name.startswith(PREFIX):
            assert value is not None, f"{name} must be set in docker-compose.yml, not inherited"
            monkeypatch.setenv(name, interpolate(value))
    return Settings()


def published_ports(service: Mapping[str, Any]) -> Iterator[tuple[str | None, int]]:
    """(host_ip, container_port) for each `ports` entry, short or long syntax."""
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            yield entry.get("host_ip"), int(str(entry["target"]).split("-")[0])
            continue
        spec = str(entry).split("/")[0]
        host_ip = None
        if spec.startswith("["):  # [::1]:8000:8000
            host_ip, _, spec = spec[1:].partition("]:")
        parts = spec.split(":")
        if host_ip is None and len(parts) == 3:
            host_ip = parts[0]
        yield host_ip, int(parts[-1].split("-")[0])


def command_argv(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def healthcheck_text(service: Mapping[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return test if isinstance(test, str) else " ".join(str(t) for t in test)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with comments dropped and continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = (line.strip() for line in text.splitlines())
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for parts in (line.split(None, 1) for line in lines if line and not line.startswith("#"))
    ]


def copy_sources() -> set[str]:
    sources: set[str] = set()
    for instruction, args in dockerfile_instructions():
        if instruction != "COPY":
            continue
        words = json.loads(args) if args.startswith("[") else shlex.split(args)
        words = [w for w in words if not w.startswith("--")]
        sources.update(w.rstrip("/") or "/" for w in words[:-1])
    return sources


# ------------------------------------------------------------------------------------------
# compose file


def test_compose_spec_has_no_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose spec has no `version:`; remove it"


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    missing = [name for name, svc in services.items() if not (svc.get("image") or svc.get("build"))]
    assert not missing, f"services without image or build: {missing}"


def test_ports_are_published_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        assert svc.get("network_mode") != "host", f"{name}: host networking bypasses loopback binds"
        for host_ip, port in published_ports(svc):
            assert host_ip == "127.0.0.1", (
                f"{name}: container port {port} is published on {host_ip or 'every interface'}; "
                f'write it as "127.0.0.1:{port}:{port}"'
            )


def test_depends_on_names_real_services(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):  # short form: started, not healthy
            deps = {target: {} for target in deps}
        for target, spec in deps.items():
            condition = (spec or {}).get("condition", "service_started")
            assert target in services, f"{name} depends on unknown service {target!r}"
            if condition == "service_healthy":
                check = services[target].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), (
                    f"{name} waits for {target} to be healthy, but {target} has no healthcheck"
                )


def test_learner_and_api_share_one_required_snapshot_key(
    services: dict[str, dict[str, Any]],
) -> None:
    learner_key = environment(services["learner"]).get(KEY_VAR)
    api_key = environment(services["api"]).get(KEY_VAR)
    assert learner_key is not None and learner_key == api_key, (
        f"learner and api must get the same {KEY_VAR}: {learner_key!r} != {api_key!r}"
    )
    # `:?` makes compose refuse to start when the host variable is unset or empty.
    assert re.fullmatch(r"\$\{[A-Za-z_]\w*:\?[^}]+\}", learner_key), (
        f"{KEY_VAR} must be a required interpolation like ${{NAME:?message}}, got {learner_key!r}"
    )
    for name, svc in services.items():  # no service carries another (e.g. literal) key
        assert environment(svc).get(KEY_VAR, learner_key) == learner_key, name


def test_streamwise_env_names_are_real_settings(services: dict[str, dict[str, Any]]) -> None:
    known = setting_env_names()
    assert Settings.model_config.get("env_prefix") == PREFIX
    assert Settings.model_config.get("env_nested_delimiter") == "__"
    assert f"{PREFIX}KAFKA__BOOTSTRAP_SERVERS" in known  # the walk itself works
    for name, svc in services.items():
        unknown = sorted(k for k in environment(svc) if k.startswith(PREFIX) and k not in known)
        assert not unknown, f"{name}: not a streamwise setting: {unknown}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_environment_is_valid_settings(
    services: dict[str, dict[str, Any]], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(services[service], monkeypatch)
    if service in {"learner", "producer"}:
        assert settings.bus == "kafka", f"{service} must use the Kafka bus under compose"
    if service in {"learner", "api"}:
        assert settings.store == "redis", f"{service} must share the Redis snapshot store"
    if settings.store == "redis":
        settings.snapshot_key()  # raises ConfigError if the key is missing


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_run_a_real_cli_command(
    services: dict[str, dict[str, Any]], service: str
) -> None:
    svc = services[service]
    assert svc.get("build"), f"{service} must be built from this repository"
    argv = command_argv(svc)
    assert argv and argv[0] in CLI_COMMANDS, (
        f"{service}: command {argv} is not one of the streamwise commands {sorted(CLI_COMMANDS)} "
        "(the image's ENTRYPOINT is already `streamwise`)"
    )


@pytest.mark.parametrize("service", ["learner", "api", *OBSERVABILITY_SERVICES])
def test_long_running_services_restart(services: dict[str, dict[str, Any]], service: str) -> None:
    assert services[service].get("restart") == "unless-stopped"


@pytest.mark.parametrize("service", sorted(LISTENERS))
def test_published_port_is_the_one_the_process_binds(
    services: dict[str, dict[str, Any]], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    section, host_field, port_field = LISTENERS[service]
    bound = getattr(settings_for(services[service], monkeypatch), section)
    host, port = getattr(bound, host_field), getattr(bound, port_field)
    assert host == "0.0.0.0", f"{service} binds {host}: unreachable through the published port"
    assert port in {p for _, p in published_ports(services[service])}
    assert f"127.0.0.1:{port}/" in healthcheck_text(services[service])


def test_api_healthcheck_uses_readyz(services: dict[str, dict[str, Any]]) -> None:
    assert "/readyz" in healthcheck_text(services["api"])


def test_clients_point_at_compose_services(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    advertised = environment(services["kafka"]).get("KAFKA_ADVERTISED_LISTENERS") or ""
    for name in APP_SERVICES:
        settings = settings_for(services[name], monkeypatch)
        servers = settings.kafka.bootstrap_servers.split(",") if settings.bus == "kafka" else []
        for server in servers:
            host, _, _ = server.strip().rpartition(":")
            assert host in services, f"{name}: Kafka bootstrap {server} is not a compose service"
            assert f"//{server.strip()}" in advertised, f"kafka does not advertise {server}"
        if settings.store == "redis":
            host = urlsplit(settings.redis.url.get_secret_value()).hostname
            assert host in services, f"{name}: Redis host {host} is not a compose service"


@pytest.mark.parametrize("service", OBSERVABILITY_SERVICES)
def test_observability_images_are_pinned(services: dict[str, dict[str, Any]], service: str) -> None:
    image = services[service].get("image", "")
    assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", image), (
        f"{service}: pin an exact version (name:X.Y.Z), not {image!r}"
    )


def test_bind_mount_sources_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for volume in svc.get("volumes") or []:
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"


@pytest.mark.parametrize("service", sorted(LISTENERS))
def test_prometheus_scrapes_the_port_each_service_binds(
    services: dict[str, dict[str, Any]], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    section, _, port_field = LISTENERS[service]
    port = getattr(getattr(settings_for(services[service], monkeypatch), section), port_field)
    jobs = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["scrape_configs"]
    scraping = [
        job
        for job in jobs
        for static in job.get("static_configs", [])
        if f"{service}:{port}" in static.get("targets", [])
    ]
    assert len(scraping) == 1, f"deploy/prometheus/prometheus.yml must scrape {service}:{port}"
    assert scraping[0].get("metrics_path", "/metrics") == "/metrics"
    assert scraping[0]["job_name"] == service, "the dashboard's Targets up panel uses job names"
    prometheus_deps = services["prometheus"].get("depends_on") or []
    assert service in prometheus_deps


# ------------------------------------------------------------------------------------------
# Dockerfile


def test_dockerfile_copies_every_package_and_what_pip_needs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    includes = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in includes if "." not in p}  # top-level packages only
    assert packages >= {"streamwise", "ingest", "learner", "api"}
    needed = packages | {"pyproject.toml", project["project"]["readme"]}
    sources = copy_sources()
    assert needed <= sources, f"the Dockerfile does not COPY {sorted(needed - sources)}"


def test_dockerfile_copy_sources_exist_and_are_not_dockerignored() -> None:
    ignored = [
        p.strip().rstrip("/")
        for p in DOCKERIGNORE.read_text().splitlines()
        if p.strip() and not p.startswith(("#", "!"))
    ]
    assert ".env" in ignored and ".git" in ignored
    for source in copy_sources():
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
        hits = [p for p in ignored if fnmatch.fnmatch(source, p.removeprefix("**/"))]
        assert not hits, f".dockerignore {hits} hides {source} from the build"


def test_dockerfile_runs_streamwise_as_non_root_without_secrets() -> None:
    instructions = dockerfile_instructions()
    base = [args for instruction, args in instructions if instruction == "FROM"]
    assert base and base[-1].split()[0] == "python:3.11-slim"
    users = [args.split(":")[0] for instruction, args in instructions if instruction == "USER"]
    assert users and users[-1] not in {"root", "0"}, "the image must end with a non-root USER"
    entrypoint = [args for instruction, args in instructions if instruction == "ENTRYPOINT"]
    assert entrypoint and json.loads(entrypoint[-1]) == ["streamwise"]
    for instruction, args in instructions:
        if instruction in {"ENV", "ARG"}:
            assert not re.search(r"KEY|SECRET|PASSWORD|TOKEN|STREAMWISE_", args.upper()), (
                f"{instruction} {args}: configuration and secrets belong to the runtime env"
            )
