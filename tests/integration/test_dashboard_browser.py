"""The live dashboard in a real browser: headless Chromium on a running ``streamwise demo``.

The demo (simulated fleet -> learner -> API, one process) runs on a free port. Chromium opens
``/``, follows the redirect to ``/dashboard``, and the test waits until the page has polled and
redrawn its charts several times while the served version moved on. It then reads what the page
displays for one model (version, events learned, a rolling metric) and checks it against
``GET /model`` fetched at that moment. A screenshot goes to the test's tmp dir, and with
``STREAMWISE_UPDATE_SCREENSHOT=1`` also to ``docs/dashboard.png`` (the README shows it), so an
ordinary run leaves the working tree clean.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make tools``), driven through Selenium
with explicit paths, so nothing is downloaded. Missing: skipped, or failed under ``CI=true``.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI
from tests.integration.helpers import free_port, wait_for, wait_ready

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("STREAMWISE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("STREAMWISE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOT = ROOT / "docs" / "dashboard.png"
WIDTH, HEIGHT = 1280, 900
MODEL, METRIC = "fault-detector", "F1"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
    "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}",
]

# What the page shows for one model: the displayed text and the raw value (data-value) of its
# version, events learned and one rolling metric; the champion marked among the candidates; the
# number of points in its metric chart's history, and drawn in its rolling line.
READ_CARD = """
const [model, metric] = arguments;
const card = document.querySelector(`[data-model="${model}"]`);
if (!card) return null;
const shown = (node) => node && {text: node.textContent.trim(), value: node.dataset.value};
const chart = card.querySelector('svg[data-chart="metric"]');
const line = chart.querySelector("path.w-rolling");
return {
  polls: Number(document.body.dataset.polls || 0),
  version: shown(card.querySelector('[data-field="version"]')),
  events_learned: shown(card.querySelector('[data-field="events_learned"]')),
  metric: shown(card.querySelector(
    `.metrics-table td[data-metric="${metric}"][data-window="rolling"]`)),
  champion: card.querySelector('tr[data-champion="true"]')?.dataset.candidate ?? null,
  chart_points: Number(chart.dataset.points || 0),
  drawn_points: line ? (line.getAttribute("d").match(/[ML]/g) || []).length : 0,
};
"""


def require_browser() -> None:
    """Fail under CI, skip elsewhere, when Chromium, its driver or Selenium is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package (dev extras)")
    if not missing:
        return
    message = (
        f"missing {', '.join(missing)}; `make tools` installs Debian's chromium and chromium-driver"
    )
    if IN_CI:
        pytest.fail(message + " — under CI=true a missing browser is a failure", pytrace=False)
    pytest.skip(message)


@contextmanager
def running_demo(port: int, log_path: Path) -> Iterator[str]:
    """``streamwise demo`` on ``port`` (fleet, learner and API in one process); its base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMWISE_")}
    env.update(
        STREAMWISE_API__PORT=str(port),
        STREAMWISE_LEARNER__METRICS_PORT="0",
        # A new version every ~2 s: the page (1 poll/s) sees it change, and shows each one
        # for long enough to be compared with GET /model.
        STREAMWISE_SNAPSHOT__EVERY_SECONDS="2",
    )
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamwise", "demo", "--rate", "200"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # with the driver's path: Selenium Manager never runs
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(15)
        # The viewport itself at WIDTH x HEIGHT, whatever the window decorations take.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )
        yield driver
    finally:
        driver.quit()


def decimals(text: str) -> int:
    return len(text.rpartition(".")[2]) if "." in text else 0


def assert_shows(shown: dict[str, str], value: float, what: str) -> None:
    """The raw value is exact; the text is that value, rounded as displayed."""
    assert float(shown["value"]) == value, (what, shown, value)
    printed = float(shown["text"].replace(",", ""))
    half_a_digit = 0.5 * 10 ** -decimals(shown["text"]) + 1e-12
    assert math.isclose(printed, value, abs_tol=half_a_digit), (what, shown, value)


def test_dashboard_shows_the_served_model_live(tmp_path: Path) -> None:
    require_browser()
    with (
        running_demo(free_port(), tmp_path / "demo.log") as base,
        httpx.Client(base_url=base, timeout=5.0) as api,
    ):
        wait_ready(api, timeout_s=30)
        with chromium(tmp_path / "chromium-profile") as browser:
            browser.get(f"{base}/")
            assert browser.current_url == f"{base}/dashboard"

            def card() -> dict[str, Any] | None:
                return browser.execute_script(READ_CARD, MODEL, METRIC)  # type: ignore[no-any-return]

            first = wait_for(lambda: (c := card()) and c["polls"] >= 1 and c, 15, "a first poll")

            def moved_on() -> dict[str, Any] | None:
                now = card()
                if now is None or int(now["version"]["value"]) <= int(first["version"]["value"]):
                    return None
                grew = now["drawn_points"] >= first["drawn_points"] + 2
                return now if grew and now["chart_points"] >= now["drawn_points"] else None

            wait_for(moved_on, 15, "the charts to redraw twice and the version to move on")

            # The page shows one poll's answer; GET /model is fetched right before and after
            # reading it. A snapshot version is immutable, so equal versions must agree on all.
            def consistent() -> tuple[dict[str, Any], dict[str, Any]] | None:
                before = api.get("/model", params={"model": MODEL}).json()
                shown = card()
                after = api.get("/model", params={"model": MODEL}).json()
                assert shown is not None
                for served in (before, after):
                    if int(shown["version"]["value"]) == served["version"]:
                        return shown, served
                return None

            shown, served = wait_for(consistent, 10, "the page to show the served version", 0.1)
            assert shown["version"]["text"] == f"{served['version']:,}"
            assert int(shown["events_learned"]["value"]) == served["events_learned"]
            assert shown["events_learned"]["text"] == f"{served['events_learned']:,}"
            assert_shows(shown["metric"], served["metrics"]["rolling"][METRIC], METRIC)
            if len(served.get("candidates") or {}) > 1:  # the table shows with two or more
                assert shown["champion"] == served["champion"]

            # Nothing but this origin was loaded, and the page logged no error (a CSP
            # violation or a script error would be one).
            loaded = browser.execute_script(
                "return performance.getEntriesByType('resource').map((e) => e.name)"
            )
            assert loaded and all(url.startswith(f"{base}/") for url in loaded), loaded
            errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, errors

            # A few more polls, so that the screenshot's charts have some history.
            wait_for(
                lambda: (c := card()) and c["drawn_points"] >= 15, 20, "15 points in the chart"
            )
            shot = tmp_path / "dashboard.png"
            assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("STREAMWISE_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, SCREENSHOT)
        print(f"screenshot: {shot} (copied to {SCREENSHOT})")  # noqa: T201
    else:
        print(f"screenshot: {shot} (STREAMWISE_UPDATE_SCREENSHOT=1 copies it to docs/)")  # noqa: T201
