"""Import rules between layers (docs/architecture.md), read from the source with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = {
    "events",
    "errors",
    "ports",
    "spec",
    "settings",
    "features",
    "snapshot",
    "clock",
    "logs",
    "quality",
    "prepare",
    "registry",
    "feedback",
}
ADAPTER_CLIENTS = {"kafka", "redis"}
SERVICE_PACKAGES = {"ingest", "learner", "api"}
COMPOSITION_ROOT = {"streamwise/wiring.py", "streamwise/cli.py", "streamwise/status.py"}
FRAMEWORKS = {"fastapi", "starlette", "uvicorn", "typer", "rich", "prometheus_client"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def modules(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def forbidden_for(path: Path) -> set[str]:
    rel = path.relative_to(ROOT)
    parts = rel.with_suffix("").parts
    if parts[0] == "streamwise":
        if len(parts) == 2 and parts[1] in CORE:
            return ADAPTER_CLIENTS | SERVICE_PACKAGES | FRAMEWORKS | {"river"}
        if parts[1] == "telemetry":
            return ADAPTER_CLIENTS | SERVICE_PACKAGES | FRAMEWORKS - {"prometheus_client"}
        if parts[1] == "adapters":
            own = {"kafka": {"kafka"}, "redis": {"redis"}}.get(parts[-1], set())
            return (ADAPTER_CLIENTS - own) | SERVICE_PACKAGES | FRAMEWORKS
        return set()  # wiring and cli compose everything
    if parts[0] in {"ingest", "learner"}:
        return (
            ADAPTER_CLIENTS | (SERVICE_PACKAGES - {parts[0]}) | FRAMEWORKS - {"prometheus_client"}
        )
    if parts[0] == "api":
        return ADAPTER_CLIENTS | {"ingest", "learner", "river", "typer", "rich"}
    raise AssertionError(f"no layering rule for {rel}")


@pytest.mark.parametrize(
    "path",
    modules("streamwise", "ingest", "learner", "api"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_module_respects_its_layer(path: Path) -> None:
    names = imports_of(path)
    rel = path.relative_to(ROOT)
    bad = {top(name) for name in names} & forbidden_for(path)
    if str(rel) not in COMPOSITION_ROOT and rel.parts[:2] != ("streamwise", "adapters"):
        bad |= {name for name in names if name.startswith("streamwise.adapters")}
    assert not bad, f"{rel} must not import {sorted(bad)}"


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = ROOT / "learner" / "loop.py"
    assert "kafka" in forbidden_for(bad)
    sample = tmp_path / "sample.py"
    sample.write_text("import kafka.errors\nfrom streamwise.adapters.redis import X\n")
    assert imports_of(sample) == {"kafka.errors", "streamwise.adapters.redis"}
