"""Fault suite (issue 9): hostile landing folders, snapshots, arrival orders, failures, the
read-only shell. Loader-level tests use an in-memory warehouse; a few build end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.schema import ensure_schema


@pytest.fixture(scope="session", autouse=True)
def _dagster_home(dagster_home: Path) -> Path:
    return dagster_home


def fresh_warehouse() -> duckdb.DuckDBPyConnection:
    """An empty in-memory warehouse with the loader's bookkeeping schema."""
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    ensure_schema(c)
    return c


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = fresh_warehouse()
    yield c
    c.close()
