"""run_build end to end (Dagster job in-process, real dbt project): publish, incremental,
up-to-date, failed checks, full refresh, and a read-only reader during a build."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from landing_fixture import DAYS, clean_rows, write_extract, write_with_bad_rows

from pipelines.run.build import BuildResult, run_build
from pipelines.settings import Settings, get_settings
from pipelines.warehouse.readonly import connect_readonly

pytestmark = pytest.mark.slow

READER = textwrap.dedent("""
    import sys, time, duckdb
    from pathlib import Path
    cur, stop = Path(sys.argv[1]), Path(sys.argv[2])
    held = duckdb.connect(str(cur.resolve()), read_only=True)   # opened before the build
    while not stop.exists():
        con = duckdb.connect(str(cur.resolve()), read_only=True)  # short-lived, like dashboards
        v = con.execute("select max(warehouse_version) from audit.runs").fetchall()[0][0]
        con.close()
        h = held.execute("select count(*) from raw.billing__usage").fetchall()[0][0]
        print(v, h, flush=True)
        time.sleep(0.05)
""")


@dataclass
class Story:
    settings: Settings
    truth: list
    results: dict[str, BuildResult] = field(default_factory=dict)
    targets: dict[str, Path] = field(default_factory=dict)
    reader_lines: list[str] = field(default_factory=list)
    reader_err: str = ""


def q(path: Path, sql: str) -> list[tuple]:
    with contextlib.closing(connect_readonly(path)) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    root = tmp_path_factory.mktemp("build")
    landing = root / "landing"
    truth = write_with_bad_rows(landing)
    s = get_settings(landing_dir=landing, warehouse_dir=root / "wh", keep_builds=3)
    st = Story(s, truth)
    cur = s.current_warehouse

    st.results["first"] = run_build(s)
    st.targets["first"] = cur.resolve()
    st.results["again"] = run_build(s)
    st.targets["again"] = cur.resolve()

    # a new daily extract, built while a reader process reads current.duckdb
    write_extract(landing, DAYS[2], clean_rows(DAYS[2], 2))
    stop = root / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(cur), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    st.results["daily"] = run_build(s)
    st.targets["daily"] = cur.resolve()
    time.sleep(0.5)
    stop.touch()
    out, err = reader.communicate(timeout=60)
    st.reader_lines, st.reader_err = out.split("\n"), err

    # bad data that must not flow on: usage naming subscriptions that exist nowhere
    rows = clean_rows("2026-01-04", 3)
    usage = [
        dict(rows["billing.usage"][0], usage_id=f"UX{i}", subscription_id=f"GHOST{i}")
        for i in range(5)
    ]
    write_extract(landing, "2026-01-04", {"billing.usage": usage})
    st.results["bad"] = run_build(s)
    st.targets["bad"] = cur.resolve()
    return st


def test_first_build_publishes_raw_and_quarantine(story: Story):
    r = story.results["first"]
    assert r.published, r.failure_reason
    assert r.files_loaded == 34 and r.rows_quarantined == len(story.truth)
    assert r.build_file and story.targets["first"] == r.build_file.resolve()
    cur = r.build_file  # current has moved on since (later builds of this story)
    got = set(
        q(cur, 'SELECT "table", file, row_number, "column", reason_code FROM quarantine.rows')
    )
    assert got == {(qn.split(".")[1], f, n, c, code) for qn, f, n, c, code in story.truth}
    assert q(
        cur, "SELECT count(*) FROM audit.load_log WHERE rows_read <> rows_loaded + rows_quarantined"
    ) == [(0,)]
    assert (
        q(cur, f"SELECT sum(rows_loaded) FROM audit.load_log WHERE run_id = '{r.run_id}'")[0][0]
        == r.rows_loaded
        == 44
    )
    assert q(cur, f"SELECT status, as_of_date FROM audit.runs WHERE run_id = '{r.run_id}'") == [
        ("published", dt.date(2026, 1, 2))
    ]
    assert r.checks_failed == 0 and r.checks_passed > 0
    assert "published" in r.summary_lines()[0].lower()


def test_second_build_without_new_files_changes_nothing(story: Story):
    r = story.results["again"]
    assert r.up_to_date and not r.published
    assert story.targets["again"] == story.targets["first"]


def test_daily_build_loads_only_new_files(story: Story):
    r = story.results["daily"]
    assert r.published, r.failure_reason
    assert r.files_loaded == 17 and r.rows_quarantined == 0
    cur = story.settings.current_warehouse
    assert q(cur, "SELECT count(DISTINCT run_id) FROM audit.load_log")[0][0] == 2
    assert q(cur, "SELECT max(warehouse_version) FROM audit.runs") == [(2,)]
    assert q(cur, "SELECT count(*) FROM raw.billing__usage") == [(3,)]


def test_reader_keeps_working_during_build_and_sees_new_data(story: Story):
    assert story.reader_err.strip() == ""
    seen = [tuple(map(int, ln.split())) for ln in story.reader_lines if ln.strip()]
    assert seen, "reader printed nothing"
    versions = [v for v, _ in seen]
    assert versions[0] == 1 and versions[-1] == 2 and versions == sorted(versions)
    assert {h for _, h in seen} == {2}  # the connection held across publication kept its snapshot


def test_failed_checks_do_not_publish(story: Story):
    r = story.results["bad"]
    assert not r.published and not r.up_to_date
    assert "referential_rules" in (r.failure_reason or "")
    assert story.targets["bad"] == story.targets["daily"]  # previous current unchanged
    cur = story.settings.current_warehouse
    assert q(cur, "SELECT count(*) FROM raw.billing__usage") == [(3,)]
    assert r.build_file is not None
    assert r.build_removed and not r.build_file.exists()  # a failed build removes its files
    log = story.settings.warehouse_dir / "logs" / "runs.jsonl"
    rec = json.loads(log.read_text().splitlines()[-1])
    assert rec["run_id"] == r.run_id and rec["status"] == "failed"
