"""The dashboard page and its assets: served by the app itself, same-origin only, installed.

The page's behaviour in a browser is tested in tests/integration/test_dashboard_browser.py.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import river.metrics
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from api.routes.dashboard import STATIC_DIR
from streamwise.adapters.memory import MemorySnapshotStore
from streamwise.clock import FakeClock
from streamwise.spec import METRIC_TASKS, ModelSpec

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (STATIC_DIR / "dashboard.js").read_text(encoding="utf-8")
PAGE = (STATIC_DIR / "dashboard.html").read_text(encoding="utf-8")


@pytest.fixture
def client() -> Iterator[TestClient]:
    spec = ModelSpec.example(model_id="phishing", target="y", metrics=["Accuracy"])
    app = create_app(
        [spec],
        MemorySnapshotStore(),
        b"a" * 32,
        FakeClock(1.7e9),
        registry=CollectorRegistry(),
        reload_interval_s=3600,
    )
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


class References(HTMLParser):
    """Every URL the page would load or link to, and every id it declares."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()
        self.parts: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href", "action", "poster", "data"} and value is not None:
                self.urls.append((tag, value))
            elif name == "id" and value:
                self.ids.add(value)
            elif name == "data-part" and value:
                self.parts.add(value)


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


def test_root_redirects_to_the_dashboard(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert urljoin("http://testserver/", response.headers["location"]) == (
        "http://testserver/dashboard"
    )
    followed = client.get("/")
    assert followed.status_code == 200 and followed.url.path == "/dashboard"


def test_dashboard_is_html_that_loads_only_same_origin_assets(client: TestClient) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text and "https://" not in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "connect-src 'self'" in csp

    refs = references(response.text)
    loaded = [(tag, url) for tag, url in refs.urls if tag in {"script", "link", "img"}]
    assert {tag for tag, _ in loaded} >= {"script", "link"}
    for tag, url in refs.urls:
        parts = urlsplit(url)
        assert not parts.netloc and parts.scheme in {"", "data"}, f"<{tag}> {url} leaves the origin"

    expected_types = {".js": "javascript", ".css": "text/css"}
    for _, url in loaded:
        if url.startswith("data:"):
            continue
        asset = client.get(urljoin("http://testserver/dashboard", url))
        assert asset.status_code == 200, url
        assert expected_types[Path(url).suffix] in asset.headers["content-type"], url
        assert asset.headers["cache-control"] == "no-cache"


def test_head_and_unknown_assets(client: TestClient) -> None:
    assert client.head("/dashboard").status_code == 200
    assert client.get("/static/dashboard.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/nothing.js").status_code == 404
    assert client.get("/static/../app.py").status_code == 404


def test_stylesheet_and_script_reach_no_other_origin() -> None:
    css = (STATIC_DIR / "dashboard.css").read_text(encoding="utf-8")
    assert "://" not in css and "@import" not in css
    # The only absolute URL in the script is the SVG namespace name, which is never fetched.
    assert set(re.findall(r"https?://[^\s\"'`]+", SCRIPT)) == {"http://www.w3.org/2000/svg"}


def test_the_script_polls_existing_get_endpoints(client: TestClient) -> None:
    fetched = set(re.findall(r"getJSON\([\"'`]([a-z/]+)", SCRIPT))
    assert fetched == {"readyz", "models", "profile", "devices/silent"}
    paths = client.get("/openapi.json").json()["paths"]
    for path in fetched:
        assert "get" in paths.get(f"/{path}", {}), path


def test_the_script_finds_every_element_it_needs_in_the_page() -> None:
    refs = references(PAGE)
    wanted_ids = set(re.findall(r"getElementById\(\"([\w-]+)\"\)", SCRIPT))
    assert wanted_ids and wanted_ids <= refs.ids
    wanted_parts = set(re.findall(r"part\(card, \"([\w-]+)\"\)", SCRIPT))
    assert wanted_parts and wanted_parts <= refs.parts


def test_success_direction_matches_river() -> None:
    """A threshold on an error or loss is an upper bound; the script must know which those are."""
    listed = re.search(r"LOWER_IS_BETTER = new Set\(\[([^\]]*)\]\)", SCRIPT)
    assert listed is not None
    in_script = set(re.findall(r"\"(\w+)\"", listed.group(1)))
    lower = {name for name in METRIC_TASKS if not getattr(river.metrics, name)().bigger_is_better}
    assert in_script == lower


def test_every_asset_is_package_data() -> None:
    """A wheel (the Docker image) must carry the page, or /dashboard answers 500."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["api"]
    for asset in STATIC_DIR.iterdir():
        relative = asset.relative_to(STATIC_DIR.parent).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in globs), relative
