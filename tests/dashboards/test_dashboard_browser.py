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
from typing import Any

import pytest

from dashboards.lib.pages import PAGE_IDS

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
#: Screenshots are kept as test artifacts here (CI uploads or inspects the folder).
SHOTS = Path(os.environ.get("SUBOPS_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
#: Each page's heading, by page id (a page added to dashboards/lib/pages.py without one here
#: fails at import: the tour must visit every page).
HEADINGS = {
    "overview": "Executive overview",
    "revenue": "Revenue",
    "margins": "Margins",
    "cash": "Cash",
    "customers": "Customers & retention",
    "account": "Account 360",
    "operations": "Operations",
    "risk": "Risk & anomalies",
    "data_quality": "Data quality",
}
#: Every page by URL path (the navigation's url_path; "" is the default page) and its heading.
PAGES = {("" if pid == PAGE_IDS[0] else pid): HEADINGS[pid] for pid in PAGE_IDS}
#: Text that only an error shows.
ERROR_TEXT = ("A query on this warehouse failed", "Traceback", "StreamlitAPIException")
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


@pytest.fixture(scope="module")
def streamlit_server(
    warehouse_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`streamlit run dashboards/streamlit_app.py` against the test build; yields its URL."""
    tmp_path = tmp_path_factory.mktemp("streamlit")
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


def _settle(page: Any) -> None:
    """Wait until the app has finished its run: a title, then no running indicator for a
    second in a row (a rerun starts a moment after a click), then charts painted."""
    page.wait_for_selector("h1", timeout=30_000)
    running = "[data-testid='stStatusWidgetRunningIcon']"
    quiet = 0
    deadline = time.monotonic() + 60
    while quiet < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        quiet = 0 if page.locator(running).count() else quiet + 1
    page.wait_for_timeout(400)


def _no_error(page: Any, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, where
    body = page.inner_text("body")
    assert not [t for t in ERROR_TEXT if t in body], (where, body[:2000])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def test_every_page_opens_without_an_error(streamlit_server: str, browser: Any) -> None:
    """Each page by its URL: its title, no exception or error element; a full-page screenshot
    per page is kept in test-artifacts/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1200})
    for path, title in PAGES.items():
        page.goto(f"{streamlit_server}/{path}")
        _settle(page)
        assert page.locator("h1").first.inner_text().strip() == title, path
        _no_error(page, path or "overview")
        page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"), full_page=True)
    page.close()


def test_overview_tiles_in_chromium(streamlit_server: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 1500})
    page.goto(streamlit_server)
    _settle(page)
    tiles = page.locator('[data-testid="stMetric"]')
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert {"MRR", "ARR", "NRR (trailing 12 m)", "Deferred revenue"} <= {
        label.strip() for label in labels
    }
    assert tiles.count() == 16
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert all(v.strip() and v.strip() != "—" for v in values), values
    assert values[0].strip().startswith("$")  # MRR, in the build's reporting currency
    _no_error(page, "overview")
    page.close()


def _pick_first_row(page: Any, key: str) -> None:
    """Select the first row of the st.dataframe with `key`: a click on its row-marker column
    (left edge of the grid, first row below the header)."""
    grid = page.locator(f".st-key-{key} [data-testid='stDataFrame']")
    grid.wait_for(timeout=15_000)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)


def test_click_through_aging_bucket_to_invoices_to_account_360(
    streamlit_server: str, browser: Any
) -> None:
    """Cash → an aging bucket → its invoices (the collections worklist) → a row's account
    opens in Account 360 with that account in the URL."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1200})
    page.goto(f"{streamlit_server}/cash")
    _settle(page)
    bucket = page.locator(".st-key-aging_bucket button").filter(has_text="1–30 days")
    if bucket.count() == 0:  # no invoice 1–30 days late in this build: the oldest non-empty one
        bucket = page.locator(".st-key-aging_bucket button").last
    bucket.first.click()
    _settle(page)
    page.get_by_text("to collect, most overdue first").wait_for(timeout=30_000)
    _pick_first_row(page, "worklist")
    link = page.get_by_role("link", name="in Account 360")
    link.first.wait_for(timeout=15_000)
    label = link.first.inner_text()
    page.screenshot(path=str(SHOTS / "click_through_1_worklist.png"), full_page=True)
    link.first.click()
    page.wait_for_url("**/account?account=*", timeout=15_000)
    _settle(page)
    assert page.locator("h1").first.inner_text().strip() == "Account 360"
    account = page.url.split("account=")[-1]
    assert account and account in page.inner_text("body"), (label, account)
    _no_error(page, "account 360")
    page.screenshot(path=str(SHOTS / "click_through_2_account_360.png"), full_page=True)
    page.close()
