"""DDL of a build file: the warehouse's bookkeeping tables (`audit.*`, `quarantine.*`) and the
raw tables of the contract. The storage layer owns it; the loader writes into these tables.

The column lists are the analyst-facing contract of docs/warehouse.md; `table` and `column` are
quoted because they are SQL keywords.
"""

from __future__ import annotations

import duckdb

from pipelines.contract import TABLES

SCHEMAS = ("raw", "quarantine", "audit")

BOOKKEEPING_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS audit.load_log (
        run_id VARCHAR, source VARCHAR, "table" VARCHAR, file VARCHAR, sha256 VARCHAR,
        extract_id VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
        loaded_at TIMESTAMP, status VARCHAR, rows_superseded BIGINT)""",
    # warehouses published before rows_superseded existed
    "ALTER TABLE audit.load_log ADD COLUMN IF NOT EXISTS rows_superseded BIGINT",
    """CREATE TABLE IF NOT EXISTS quarantine.rows (
        source VARCHAR, "table" VARCHAR, file VARCHAR, row_number BIGINT, "column" VARCHAR,
        reason_code VARCHAR, reason VARCHAR, raw_record VARCHAR, run_id VARCHAR,
        extract_id VARCHAR, quarantined_at TIMESTAMP)""",
    # rows `subops map` could not place: the mapping's name (NULL for the loader's own rows)
    "ALTER TABLE quarantine.rows ADD COLUMN IF NOT EXISTS mapping VARCHAR",
    """CREATE TABLE IF NOT EXISTS quarantine.files (
        source VARCHAR, "table" VARCHAR, file VARCHAR, sha256 VARCHAR, extract_id VARCHAR,
        reason_code VARCHAR, reason VARCHAR, rows_read BIGINT, run_id VARCHAR,
        quarantined_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS audit.schema_drift (
        source VARCHAR, "table" VARCHAR, file VARCHAR, extract_id VARCHAR, "column" VARCHAR,
        reason_code VARCHAR, run_id VARCHAR, detected_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS audit.reference_breaches (
        source VARCHAR, "table" VARCHAR, "key" VARCHAR, "column" VARCHAR, value VARCHAR,
        reason_code VARCHAR, reason VARCHAR, file VARCHAR, row_number BIGINT, run_id VARCHAR,
        checked_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS audit.check_results (
        run_id VARCHAR, check_name VARCHAR, asset VARCHAR, passed BOOLEAN, blocking BOOLEAN,
        description VARCHAR, checked_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS audit.runs (
        run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
        warehouse_version BIGINT, as_of_date DATE, checks_passed BIGINT, checks_failed BIGINT,
        files_loaded BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, full_refresh BOOLEAN,
        build_file VARCHAR, failure_reason VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS audit.build_info (
        run_id VARCHAR, started_at TIMESTAMP, as_of_date DATE, full_refresh BOOLEAN,
        reporting_currency VARCHAR, parent_build VARCHAR)""",
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table the loader writes (idempotent)."""
    for s in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
    for ddl in BOOKKEEPING_DDL:
        con.execute(ddl)
    for t in TABLES:
        con.execute(t.raw_ddl())
