"""The real thing: `streamlit run` on a free port, Debian's chromium through playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def streamlit_server(warehouse_dir: Path, tmp_path: Path) -> Iterator[str]:
    """`streamlit run dashboards/streamlit_app.py` against the test build; yields its URL."""
    port = _free_port()
    env = {**os.environ, "SUBOPS_WAREHOUSE_DIR": str(warehouse_dir)}
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "dashboards/streamlit_app.py",
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.port", str(port),
            "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_overview_renders_in_chromium(streamlit_server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shot = tmp_path / "overview.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1500})
            page.goto(streamlit_server)
            page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=30_000)
            tiles = page.locator('[data-testid="stMetric"]')
            tiles.first.wait_for(timeout=10_000)
            labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
            assert {"MRR", "ARR", "NRR (trailing 12 m)", "Deferred revenue"} <= {
                label.strip() for label in labels
            }
            assert tiles.count() == 16
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            assert all(v.strip() and v.strip() != "—" for v in values), values
            assert values[0].strip().startswith("$")  # MRR, in the build's reporting currency
            assert page.locator('[data-testid="stException"]').count() == 0
            page.wait_for_timeout(800)  # let plotly finish its first paint
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")
