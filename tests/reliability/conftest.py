"""Fault suite (issue 9): hostile landing folders, snapshots, arrival orders, failures, the
read-only shell. Loader-level tests use an in-memory warehouse; a few build end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from reliability_helpers import fresh_warehouse


@pytest.fixture(scope="session", autouse=True)
def _dagster_home(dagster_home: Path) -> Path:
    return dagster_home


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = fresh_warehouse()
    yield c
    c.close()
