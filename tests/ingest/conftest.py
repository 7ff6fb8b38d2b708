"""Fixtures for loader tests: a fresh DuckDB file with the warehouse's bookkeeping schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.schema import ensure_schema


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    c.execute("SET TimeZone = 'UTC'")
    ensure_schema(c)
    yield c
    c.close()
