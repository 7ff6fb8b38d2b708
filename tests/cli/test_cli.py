"""The CLI: every command documents itself with examples; failures are one line, non-zero."""

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

COMMANDS = [
    "generate",
    "build",
    "dashboard",
    "demo",
    "dev",
    "status",
    "tables",
    "describe",
    "sql",
    "metrics",
    "bench",
    "map",
]
runner = CliRunner()


def test_root_help_lists_every_command():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_has_help_with_examples(name):
    result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "Examples" in result.output
    assert f"subops {name}" in result.output


def _subops(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        timeout=120,
    )


def test_failure_is_one_clear_line_without_traceback(tmp_path):
    proc = _subops("sql", "select 1", SUBOPS_WAREHOUSE_DIR=str(tmp_path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "no published warehouse" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2


def test_debug_shows_the_traceback(tmp_path):
    proc = _subops("--debug", "sql", "select 1", SUBOPS_WAREHOUSE_DIR=str(tmp_path))
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr


def test_sql_reads_a_published_warehouse_read_only(tmp_path):
    import duckdb

    path = tmp_path / "current.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create table marts.t as select 1 as a, 'x' as b")
    con.close()
    proc = _subops("sql", "--csv", "select * from marts.t", SUBOPS_WAREHOUSE_DIR=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["a,b", "1,x"]
    proc = _subops("sql", "create table marts.u (x int)", SUBOPS_WAREHOUSE_DIR=str(tmp_path))
    assert proc.returncode == 1
    assert "read-only" in proc.stderr.lower()
    proc = _subops(
        "sql", "select * from read_csv('/etc/passwd')", SUBOPS_WAREHOUSE_DIR=str(tmp_path)
    )
    assert proc.returncode == 1, "external access must be disabled"


def test_status_counts_mart_rows(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "current.duckdb"))
    con.execute(
        "create schema marts; create table marts.dim_plans as select range as id from range(3)"
    )
    con.close()
    proc = _subops("status", SUBOPS_WAREHOUSE_DIR=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "dim_plans" in proc.stdout and "3" in proc.stdout
