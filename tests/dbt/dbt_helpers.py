"""Build the dbt project into a tmp DuckDB and query it: shared by the dbt test modules."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import duckdb

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def make_dev_db() -> ModuleType:
    """dbt_project/scripts/make_dev_db.py, which is a script rather than a package module."""
    spec = importlib.util.spec_from_file_location(
        "make_dev_db", DBT_DIR / "scripts" / "make_dev_db.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dbt_build(
    db: Path, tmp: Path, as_of: str, *, unit_tests: bool = True, upstream_of: tuple[str, ...] = ()
) -> None:
    """`dbt build` (models and all tests) on `db` as of `as_of`, target and logs under `tmp`;
    fails the test with the tail of dbt's output. The unit tests run on fixed inputs, whatever
    the database: one build per session runs them (test_dbt_build.py), the others pass
    `unit_tests=False`. `upstream_of`: only these models and everything they read (`+model`),
    with their tests — what a module checks, not the whole project again."""
    env = {
        **os.environ,
        "SUBOPS_DBT_DUCKDB_PATH": str(db),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [
            str(DBT),
            "build",
            "--vars",
            f'{{as_of_date: "{as_of}"}}',
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(tmp / "target"),
            "--log-path",
            str(tmp / "logs"),
            *([] if unit_tests else ["--exclude-resource-type", "unit_test"]),
            *(
                ["--select", *(f"+{m}" for m in upstream_of), "--indirect-selection", "cautious"]
                if upstream_of
                else []
            ),
        ],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "ERROR=0" in proc.stdout


def q(db: Path, sql: str, *params):
    """Rows of one statement on a short-lived read-only connection."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
