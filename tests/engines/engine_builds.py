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


# --- the dashboard on a served target -------------------------------------------------------


def _rows(df: Any) -> list[tuple]:
    """A frame's rows with NaN/NaT as None (engines agree on values, not on pandas' fill)."""
    import pandas as pd

    def plain(v: Any) -> Any:
        return None if v is None or v is pd.NaT or (isinstance(v, float) and v != v) else v

    return [tuple(plain(v) for v in r) for r in df.astype(object).itertuples(index=False)]


def _same(a: Any, b: Any) -> bool:
    import math

    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9)
    return a == b


def assert_pages_read_as_on_duckdb(
    duckdb_build: Built, source: Any, env: dict[str, Any], monkeypatch: Any
) -> None:
    """Every page's queries (recorded on a render of the DuckDB build: dashboards/timing.py),
    replayed on `source` (the served marts of a target), give the same frames as on the DuckDB
    build; then every page renders with the target's settings (`env`, as SUBOPS_* variables)
    without an error. Only queries that read the marts alone are compared: the audit trail is
    each build's own (two builds, two run ids)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboards import timing
    from dashboards.lib import cache, queries, served

    duck = duckdb_build.settings.current_warehouse.resolve()
    statements: list[str] = []
    fetch = queries.fetch
    monkeypatch.setattr(
        queries,
        "fetch",
        lambda con, sql, params=(): statements.append(sql) or fetch(con, sql, params),
    )
    compared, differ = set(), []
    for page, calls in timing.record(duckdb_build.settings.warehouse_dir).items():
        for name, args in calls:
            expected = cache.REGISTRY[name](duck, *args)
            statements.clear()
            got = cache.REGISTRY[name](source, *args)
            if not statements or {served.route(sql) for sql in statements} != {"postgres"}:
                continue  # reads the audit trail or the catalogue ("postgres": reads marts)
            compared.add(name)
            ok = list(got.columns) == list(expected.columns) and len(got) == len(expected)
            ok = ok and all(
                all(_same(x, y) for x, y in zip(r, s, strict=True))
                for r, s in zip(_rows(expected), _rows(got), strict=True)
            )
            if not ok:
                differ.append(f"{page}: {name}{args}")
    assert not differ, differ
    assert len(compared) >= 30, sorted(compared)

    for key, value in env.items():
        monkeypatch.setenv(f"SUBOPS_{key.upper()}", str(value))
    at = AppTest.from_file(str(timing.ENTRY), default_timeout=120)
    top = cache.REGISTRY["top_accounts"](source)
    for page in timing.PAGES:
        st.cache_data.clear()
        if page.endswith("account_360.py"):
            at.query_params["account"] = str(top["account_id"].iloc[0])
        (at.run() if page == timing.PAGES[0] else at.switch_page(page).run())
        assert not at.exception, (page, at.exception[0].message)
        assert not [e.value for e in at.error], (page, [e.value for e in at.error])
