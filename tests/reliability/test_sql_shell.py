"""`subops sql` and every read-only connection: one read-only statement, no writes anywhere
(not even into DuckDB's allow-listed temp folder next to the build file), memory and run time
capped, settings locked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.readonly import (
    QueryFailedError,
    QueryRefusedError,
    check_read_only,
    connect_readonly,
    run_read_only_query,
)

CROSS_JOIN = "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published layout: builds/<build>.duckdb and current.duckdb → it (a symlink)."""
    wh = tmp_path_factory.mktemp("wh")
    build = wh / "builds" / "20260101T000000Z-abcdef12.duckdb"
    build.parent.mkdir()
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.t AS SELECT range AS id, range * 2 AS v FROM range(1000)")
    (wh / "current.duckdb").symlink_to(os.path.relpath(build, wh))
    return wh


def temp_folder(wh: Path) -> Path:
    """DuckDB's default temp directory of the published build: `<build file>.tmp`."""
    build = (wh / "current.duckdb").resolve()
    return build.with_name(build.name + ".tmp")


def subops(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        timeout=120,
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_copy_into_the_temp_folder_is_refused_by_a_bare_connection(warehouse: Path):
    tmp = temp_folder(warehouse)
    tmp.mkdir(exist_ok=True)  # as a build that spilled would have left it
    target = tmp / "spill.csv"
    with connect_readonly(warehouse / "current.duckdb") as con:
        assert con.execute("SELECT current_setting('temp_directory')").fetchall() == [("",)]
        with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
            con.execute(f"COPY (SELECT * FROM range(10)) TO '{target}'")
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"COPY (SELECT 1) TO '{warehouse / 'x.csv'}'")
    assert not target.exists() and list(tmp.iterdir()) == []


def test_copy_into_the_temp_folder_is_refused_by_subops_sql(warehouse: Path):
    tmp = temp_folder(warehouse)
    tmp.mkdir(exist_ok=True)
    target = tmp / "spill.csv"
    proc = subops(
        "sql", f"COPY (SELECT * FROM range(10)) TO '{target}'", SUBOPS_WAREHOUSE_DIR=str(warehouse)
    )
    line = one_line(proc)
    assert "refused: a COPY statement" in line and "SELECT" in line
    assert not target.exists()


def test_settings_are_locked_and_spilling_is_off(warehouse: Path):
    with connect_readonly(warehouse / "current.duckdb", memory_limit="64MB", threads=1) as con:
        got = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('max_temp_directory_size')"
        ).fetchall()[0]
        assert got[1] == 1 and got[2] == "0 bytes" and "MiB" in got[0]
        for stmt in (
            f"SET temp_directory = '{temp_folder(warehouse)}'",
            "SET memory_limit = '100GB'",
            "SET enable_external_access = true",
            "RESET threads",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(stmt)


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1; SELECT 2", "2 statements"),
        ("SELECT 1; COPY (SELECT 1) TO 'x.csv'", "2 statements"),
        ("   ", "no statement"),
        ("SET memory_limit = '100GB'", "SET"),
        ("PRAGMA memory_limit = '100GB'", "SET"),
        ("ATTACH 'other.duckdb' AS o", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("COPY (SELECT 1) TO 'x.csv'", "COPY"),
        ("EXPORT DATABASE 'out'", "EXPORT"),
        ("CREATE TEMP TABLE x AS SELECT 1", "CREATE"),
        ("CREATE MACRO m(a) AS a", "CREATE"),
        ("INSERT INTO marts.t VALUES (1, 2)", "INSERT"),
        ("CALL pragma_version()", "CALL"),
        ("CHECKPOINT", "CALL"),
        ("PRAGMA enable_profiling", "PRAGMA enable_profiling"),
        ("EXPLAIN ANALYZE COPY (SELECT 1) TO 'x.csv'", "EXPLAIN of a non-SELECT"),
    ],
)
def test_anything_but_one_read_only_statement_is_refused(sql: str, kind: str):
    with pytest.raises(QueryRefusedError) as err:
        check_read_only(sql)
    msg = str(err.value)
    assert kind in msg and "one read-only statement" in msg and "\n" not in msg


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM marts.t",
        "-- a comment\nWITH x AS (SELECT 1 AS a) SELECT * FROM x;",
        "FROM marts.t LIMIT 1",
        "SHOW ALL TABLES",
        "DESCRIBE marts.t",
        "SUMMARIZE marts.t",
        "EXPLAIN SELECT * FROM marts.t",
        "EXPLAIN ANALYZE SELECT * FROM marts.t",
        "PRAGMA table_info('marts.t')",
        "PRAGMA version",
    ],
)
def test_read_only_statements_run(warehouse: Path, sql: str):
    res = run_read_only_query(
        warehouse / "current.duckdb", sql, memory_limit="256MB", timeout_seconds=30
    )
    assert res.columns and res.rows


def test_two_statements_run_nothing_via_subops_sql(warehouse: Path):
    proc = subops("sql", "SELECT 42; SELECT 43", SUBOPS_WAREHOUSE_DIR=str(warehouse))
    line = one_line(proc)
    assert "refused: 2 statements" in line
    assert "42" not in proc.stdout


def test_a_long_query_is_interrupted(warehouse: Path):
    t0 = time.perf_counter()
    with pytest.raises(QueryFailedError) as err:
        run_read_only_query(
            warehouse / "current.duckdb", CROSS_JOIN, memory_limit="256MB", timeout_seconds=0.3
        )
    assert time.perf_counter() - t0 < 10
    assert "longer than 0.3 s" in str(err.value) and "SUBOPS_SQL_TIMEOUT_SECONDS" in str(err.value)


def test_subops_sql_interrupts_after_the_timeout_setting(warehouse: Path):
    proc = subops(
        "sql", CROSS_JOIN, SUBOPS_WAREHOUSE_DIR=str(warehouse), SUBOPS_SQL_TIMEOUT_SECONDS="0.5"
    )
    assert "interrupted" in one_line(proc)


def test_the_memory_cap_fails_readably_without_spilling(warehouse: Path):
    with pytest.raises(QueryFailedError) as err:
        run_read_only_query(
            warehouse / "current.duckdb",
            "SELECT count(*) FROM (SELECT range AS r FROM range(5000000) ORDER BY random())",
            memory_limit="32MB",
            timeout_seconds=60,
        )
    msg = str(err.value)
    assert "\n" not in msg
    assert "sql_memory_limit (32MB" in msg and "Out of Memory" in msg
    assert "SUBOPS_SQL_MEMORY_LIMIT" in msg
    tmp = temp_folder(warehouse)
    assert not tmp.exists() or list(tmp.iterdir()) == []


def test_subops_sql_still_prints_results(warehouse: Path):
    proc = subops(
        "sql", "--csv", "SELECT count(*) AS n FROM marts.t", SUBOPS_WAREHOUSE_DIR=str(warehouse)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["n", "1000"]
