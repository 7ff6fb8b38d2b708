"""`make test-engines` (not part of `make test`): the same company built on DuckDB and on each
server target, compared mart by mart. Shared here:

- `company`: a generated landing folder at scale 0.05 (session);
- `duckdb_marts`: that company built with the default target, every mart's rows (session);
- `duckdb_build`: that build (settings, result, seconds);
- `pg_cluster`: see below.
Helpers in engine_builds.py (`from engine_builds import ...`): `build(landing, warehouse,
**settings)`, `marts_of(con, schema)` (every table's columns and rows in a canonical order, for
any DB-API connection: DuckDB, psycopg, a Spark cursor) and `assert_same_marts(expected, got,
engine)` (decimals compared exactly);
`pg_cluster`: a throwaway PostgreSQL cluster (initdb + pg_ctl in a temp folder, on a free
  port, run as `nobody` when the tests run as root). Missing binaries FAIL the session with the
  way to install them — nothing is skipped silently.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_builds import (
    END,
    SCALE,
    SEED,
    START,
    Built,
    PgCluster,
    build,
    free_port,
    marts_of,
    pg_bin,
)


@pytest.fixture(scope="session", autouse=True)
def _dagster_home(dagster_home: Path) -> Path:
    return dagster_home


# --- the company and its DuckDB build -------------------------------------------------------


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The landing folder of a generated company (scale 0.05, one daily extract after END)."""
    from pipelines.generate import generate

    landing = tmp_path_factory.mktemp("company") / "landing"
    generate(landing, scale=SCALE, seed=SEED, start=START, end=END, daily=1)
    return landing


@pytest.fixture(scope="session")
def duckdb_build(company: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    b = build(company, tmp_path_factory.mktemp("wh-duckdb"))
    assert b.result.published, b.result.failure_reason
    print(f"\nduckdb build at scale {SCALE}: {b.seconds:.1f} s")
    return b


@pytest.fixture(scope="session")
def duckdb_marts(duckdb_build: Built) -> dict[str, tuple[list, list]]:
    from pipelines.warehouse.readonly import connect_readonly

    with contextlib.closing(connect_readonly(duckdb_build.settings.current_warehouse)) as con:
        return marts_of(con)


# --- a throwaway PostgreSQL cluster ---------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """initdb + pg_ctl start in a temp folder (as `nobody` when root), fsync off; a builder
    role `subops` (CREATEROLE: it creates the read-only role) owning database `subops`."""
    import psycopg

    bindir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="subops-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "nobody", "nogroup")
        as_user = ["runuser", "-u", "nobody", "--"]
    data, port = root / "data", free_port()

    def run(*cmd: str) -> None:
        proc = subprocess.run([*as_user, *cmd], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            log = (root / "log").read_text() if (root / "log").exists() else ""
            pytest.fail(f"{cmd[0]} failed: {proc.stdout}{proc.stderr}{log}"[-2000:], pytrace=False)

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
    )
    opts = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", opts, "-w", "start")
    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        ) as con:
            con.execute("CREATE ROLE subops LOGIN CREATEROLE")
            con.execute("CREATE DATABASE subops OWNER subops")
        yield PgCluster("127.0.0.1", port, "postgres", "subops", "subops")
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
