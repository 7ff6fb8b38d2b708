"""End to end (Dagster job + dbt): a landing folder with refused files still publishes and says
what it refused; a snapshot that deletes every account blocks publication with a message that
names the file, until the operator confirms it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from landing_fixture import DAYS, write_clean, write_csv

from pipelines.contract import table
from pipelines.run.build import BuildResult, run_build
from pipelines.settings import Settings, get_settings
from pipelines.warehouse.readonly import connect_readonly

pytestmark = pytest.mark.slow


@dataclass
class Story:
    settings: Settings
    results: dict[str, BuildResult] = field(default_factory=dict)
    targets: dict[str, Path] = field(default_factory=dict)
    killed: tuple[Path, Path, set[str]] | None = None  # current before, after, build files
    concurrent: str = ""  # what a second build said while the first was running


def kill_a_build(s: Settings, st: Story) -> tuple[Path, Path, set[str]]:
    """SIGKILL a `subops build` process as soon as its build file exists (and, while it runs,
    try a second build: it must be refused)."""
    before = s.current_warehouse.resolve()
    known = set(os.listdir(s.builds_dir))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "build",
            "--full-refresh",
            "--landing",
            str(s.landing_dir),
            "--warehouse-dir",
            str(s.warehouse_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and set(os.listdir(s.builds_dir)) <= known:
        assert proc.poll() is None, "the build ended before it could be killed"
        time.sleep(0.05)
    try:
        run_build(s)
    except RuntimeError as exc:
        st.concurrent = str(exc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return before, s.current_warehouse.resolve(), set(os.listdir(s.builds_dir)) - known


def q(path: Path, sql: str) -> list[tuple]:
    with contextlib.closing(connect_readonly(path)) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    root = tmp_path_factory.mktemp("hostile")
    landing = write_clean(root / "landing")
    header = ",".join(table("billing.payments").column_names) + "\n"
    for rel in (
        "billing/payments/2099-01-01.csv",
        "billing/payments/latest.csv",
        "Billing/payments/2026-01-02.csv",
        "crm/.DS_Store",
    ):
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        (landing / rel).write_text(header)
    (root / "outside.csv").write_text(header)
    os.symlink(root / "outside.csv", landing / "billing/payments/2026-01-02T120000Z.csv")
    accounts = table("crm.accounts")  # the latest accounts snapshot is empty
    write_csv(landing / "crm/accounts" / f"{DAYS[2]}.csv", list(accounts.column_names), [])
    s = get_settings(landing_dir=landing, warehouse_dir=root / "wh")
    st = Story(s)
    st.results["empty_snapshot"] = run_build(s)  # blocked before dbt: cheap
    st.results["confirmed"] = run_build(s.model_copy(update={"confirm_deletions": True}))
    st.targets["confirmed"] = s.current_warehouse.resolve()
    st.killed = kill_a_build(s, st)  # a full refresh, killed as soon as its file exists
    st.results["again"] = run_build(s)  # nothing new: up to date, and the orphan is removed
    return st


def test_an_empty_accounts_snapshot_blocks_publication_naming_the_file(story: Story):
    r = story.results["empty_snapshot"]
    assert not r.published and not r.up_to_date
    assert f"crm/accounts/{DAYS[2]}.csv would mark 2 of 2 crm.accounts rows deleted" in (
        r.failure_reason or ""
    )
    assert "--confirm-deletions" in (r.failure_reason or "")
    assert "dbt" not in (r.failure_reason or "")  # stopped at the check, before the models


def test_confirmed_deletions_publish_and_refused_files_are_reported(story: Story):
    r = story.results["confirmed"]
    assert r.published, r.summary_lines()
    assert r.as_of_date == dt.date.fromisoformat(DAYS[2])  # not 2099
    got = q(
        story.targets["confirmed"],
        "SELECT count(*) FILTER (WHERE _is_deleted), count(*) FROM raw.crm__accounts",
    )
    assert got == [(2, 2)]
    assert len(r.refused_files) == 5
    text = "\n".join(r.summary_lines())
    assert "files refused under the landing folder: 5" in text
    assert "billing/payments/2099-01-01.csv: extract 2099-01-01 is dated after today" in text
    got = q(
        story.targets["confirmed"], "SELECT file, reason_code FROM quarantine.files ORDER BY file"
    )
    assert got == [
        ("Billing/payments/2026-01-02.csv", "misplaced_file"),
        ("billing/payments/2026-01-02T120000Z.csv", "outside_landing"),
        ("billing/payments/2099-01-01.csv", "future_extract"),
        ("billing/payments/latest.csv", "bad_extract_id"),
        ("crm/.DS_Store", "misplaced_file"),
    ]


def test_up_to_date_still_mentions_the_refused_files(story: Story):
    r = story.results["again"]
    assert r.up_to_date
    assert "5 file(s) under the landing folder are still refused" in r.summary_lines()[0]


def test_a_killed_build_leaves_the_published_warehouse_and_the_next_build_works(story: Story):
    before, after, leftovers = story.killed
    assert after == before == story.targets["confirmed"]  # nothing half-built was published
    assert q(after, "SELECT count(*) FROM raw.crm__accounts") == [(2,)]
    assert {f for f in leftovers if f.endswith(".duckdb")}  # the killed run's build file ...
    remaining = set(os.listdir(story.settings.builds_dir))
    assert not {f for f in leftovers if f.endswith(".duckdb")} & remaining  # ... is gone


def test_a_second_build_while_one_runs_is_refused(story: Story):
    assert story.concurrent.startswith(f"another build is writing {story.settings.warehouse_dir}")
