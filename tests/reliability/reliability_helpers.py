"""Helpers shared by the fault suite (a module, not conftest: conftest names collide)."""

from __future__ import annotations

import duckdb

from pipelines.warehouse.schema import ensure_schema


def fresh_warehouse() -> duckdb.DuckDBPyConnection:
    """An empty in-memory warehouse with the loader's bookkeeping schema."""
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    ensure_schema(c)
    return c
