"""Helpers of the engine tests (importable by every tests/engines module; fixtures: conftest)."""

from __future__ import annotations

import datetime as dt
import glob
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCALE = 0.05
SEED = 7
START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)


def canonical(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows sorted by every column, NULLs last (the same order whatever the engine)."""
    return sorted(
        (tuple(r) for r in rows),
        key=lambda r: tuple((v is None, v if v is not None else 0) for v in r),
    )


def marts_of(con: Any, schema: str = "marts", quote: str = '"') -> dict[str, tuple[list, list]]:
    """{mart: (column names, canonical rows)} of every table in `schema` of a DB-API connection."""
    cur = con.cursor()
    cur.execute(
        "select table_name from information_schema.tables "
        f"where table_schema = '{schema}' order by table_name"
    )
    names = [r[0] for r in cur.fetchall()]
    out = {}
    for n in names:
        cur.execute(f"select * from {schema}.{quote}{n}{quote}")
        cols = [d[0] for d in cur.description]
        out[n] = (cols, canonical(cur.fetchall()))
    return out


@dataclass
class Built:
    settings: Any
    result: Any
    seconds: float


def build(landing: Path, warehouse: Path, *, full_refresh: bool = False, **overrides: Any) -> Built:
    """`run_build` of `landing` into `warehouse` with settings overrides (e.g. target=...)."""
    from pipelines.run.build import run_build
    from pipelines.settings import get_settings

    s = get_settings(landing_dir=landing, warehouse_dir=warehouse, **overrides)
    t0 = time.perf_counter()
    r = run_build(s, full_refresh=full_refresh)
    return Built(s, r, time.perf_counter() - t0)


def assert_same_marts(
    expected: dict, got: dict, engine: str, absent: frozenset[str] = frozenset()
) -> None:
    """Every mart present on both (but `absent`, not built on `engine`), same columns, same rows
    (decimals compared exactly). The renewal-risk marts, written by a Python step after dbt,
    are compared too: every target builds them."""
    expected = {k: v for k, v in expected.items() if k not in absent}
    assert sorted(got) == sorted(expected), f"{engine}: different marts"
    for name, (cols, rows) in expected.items():
        gcols, grows = got[name]
        assert gcols == cols, f"{engine} {name}: columns {gcols} != {cols}"
        assert len(grows) == len(rows), f"{engine} {name}: {len(grows)} rows != {len(rows)}"
        for i, (a, b) in enumerate(zip(rows, grows, strict=True)):
            assert a == b, f"{engine} {name} row {i}: {b} != duckdb {a}"


def pg_bin() -> Path:
    """The folder of initdb/pg_ctl: PATH, else Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    pytest.fail(
        "PostgreSQL binaries (initdb, pg_ctl) not found on PATH nor in /usr/lib/postgresql/*/bin: "
        "install PostgreSQL 15 (Debian: apt-get install -y postgresql) — .ci/run does",
        pytrace=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgCluster:
    host: str
    port: int
    admin: str  # superuser (trust auth on localhost)
    user: str  # the builder role subops uses
    dbname: str

    def settings(self) -> dict[str, Any]:
        """Settings overrides pointing a build at this cluster."""
        return {
            "target": "postgres",
            "pg_host": self.host,
            "pg_port": self.port,
            "pg_user": self.user,
            "pg_dbname": self.dbname,
        }

    def connect(self, user: str | None = None) -> Any:
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=user or self.admin, dbname=self.dbname
        )
