"""Loader: load modes, validation reasons, file rejections, idempotency, lineage, drift."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
from landing_fixture import (
    DAYS,
    clean_rows,
    write_clean,
    write_csv,
    write_extract,
    write_with_bad_rows,
)

from pipelines.contract import TABLES, LoadMode, table
from pipelines.contract.model import REASON_CODES, ROW_REJECT_REASONS
from pipelines.ingest.landing import latest_extract_date, table_files
from pipelines.ingest.load import load_table
from pipelines.ingest.references import check_references


def load_all(con: duckdb.DuckDBPyConnection, landing: Path, run_id: str = "r1") -> list:
    return [load_table(con, t, table_files(landing, t), run_id) for t in TABLES]


def q(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[tuple]:
    return con.execute(sql, params or {}).fetchall()


def assert_reconciles(con: duckdb.DuckDBPyConnection) -> None:
    assert q(con, "SELECT count(*) FROM audit.load_log")[0][0] > 0
    assert (
        q(con, "SELECT file FROM audit.load_log WHERE rows_read <> rows_loaded + rows_quarantined")
        == []
    )


def test_clean_folder_loads_every_row(con, tmp_path):
    landing = write_clean(tmp_path / "landing")
    results = load_all(con, landing)
    assert all(f.rows_quarantined == 0 for r in results for f in r.files)
    assert_reconciles(con)
    for t in TABLES:
        expected = set()
        for n, day in enumerate(DAYS[:2]):
            expected |= {tuple(r[k] for k in t.key) for r in clean_rows(day, n)[t.qualified_name]}
        got = q(con, f"SELECT count(*) FROM raw.{t.raw_table}")[0][0]
        assert got == len(expected), t.qualified_name
    assert latest_extract_date(landing) == dt.date(2026, 1, 2)


def test_bad_rows_are_quarantined_with_their_reason(con, tmp_path):
    truth = write_with_bad_rows(tmp_path / "landing")
    load_all(con, tmp_path / "landing")
    got = q(con, 'SELECT "table", file, row_number, "column", reason_code FROM quarantine.rows')
    expected = {(qn.split(".")[1], f, r, c, code) for qn, f, r, c, code in truth}
    assert set(got) == expected and len(got) == len(expected)
    assert {code for *_, code in truth} == ROW_REJECT_REASONS  # every row reason covered
    assert_reconciles(con)
    for file, row, reason, raw_record in q(
        con, "SELECT file, row_number, reason, raw_record FROM quarantine.rows"
    ):
        assert file in reason and f"row {row}" in reason
        assert isinstance(json.loads(raw_record), dict)
    # the rest loaded: every clean row of extract 0 and 1
    assert q(con, "SELECT count(*) FROM raw.support__tickets")[0][0] == 2


def test_loading_twice_changes_nothing(con, tmp_path):
    landing = write_clean(tmp_path / "landing")
    load_all(con, landing, "r1")
    before = {
        t.raw_table: q(con, f"SELECT * EXCLUDE (_loaded_at) FROM raw.{t.raw_table} ORDER BY ALL")
        for t in TABLES
    }
    again = load_all(con, landing, "r2")
    assert all(not r.files and r.skipped == 2 for r in again)
    after = {
        t.raw_table: q(con, f"SELECT * EXCLUDE (_loaded_at) FROM raw.{t.raw_table} ORDER BY ALL")
        for t in TABLES
    }
    assert before == after
    assert q(con, "SELECT count(DISTINCT run_id) FROM audit.load_log")[0][0] == 1


def test_append_greatest_version_wins_ties_to_later_extract(con, tmp_path):
    landing = tmp_path / "landing"
    t = table("support.tickets")
    assert t.load_mode is LoadMode.APPEND and t.version == "updated_at"
    base = clean_rows(DAYS[0])["support.tickets"][0]
    newer = {**base, "status": "closed", "updated_at": "2026-01-05T00:00:00Z"}
    older = {**base, "status": "open", "updated_at": "2026-01-04T00:00:00Z"}
    tie = {**base, "status": "pending", "updated_at": "2026-01-05T00:00:00Z"}
    write_extract(landing, DAYS[0], {"support.tickets": [newer]})
    write_extract(landing, DAYS[1], {"support.tickets": [older]})
    load_table(con, t, table_files(landing, t), "r1")
    assert q(con, "SELECT status, _extract_id FROM raw.support__tickets") == [("closed", DAYS[0])]
    write_extract(landing, DAYS[2], {"support.tickets": [tie]})
    load_table(con, t, table_files(landing, t), "r2")
    assert q(con, "SELECT status, _extract_id FROM raw.support__tickets") == [("pending", DAYS[2])]


def test_append_without_version_later_extract_wins(con, tmp_path):
    landing = tmp_path / "landing"
    t = table("billing.payments")
    base = clean_rows(DAYS[0])["billing.payments"][0]
    write_extract(landing, DAYS[0], {"billing.payments": [base]})
    write_extract(landing, DAYS[1], {"billing.payments": [{**base, "status": "refunded"}]})
    load_table(con, t, table_files(landing, t), "r1")
    assert q(con, "SELECT status FROM raw.billing__payments") == [("refunded",)]


def test_snapshot_flags_keys_absent_from_latest_extract(con, tmp_path):
    landing = tmp_path / "landing"
    t = table("crm.accounts")
    a1, a2 = clean_rows(DAYS[0])["crm.accounts"]
    write_extract(landing, DAYS[0], {"crm.accounts": [a1, a2]})
    write_extract(landing, DAYS[1], {"crm.accounts": [a1]})
    load_table(con, t, table_files(landing, t), "r1")
    assert q(con, "SELECT account_id, _is_deleted FROM raw.crm__accounts ORDER BY 1") == [
        ("A1", False),
        ("A2", True),
    ]
    write_extract(landing, DAYS[2], {"crm.accounts": [a1, {**a2, "account_name": "Bolt 2"}]})
    load_table(con, t, table_files(landing, t), "r2")
    assert q(
        con, "SELECT account_id, account_name, _is_deleted FROM raw.crm__accounts ORDER BY 1"
    ) == [("A1", "Acme", False), ("A2", "Bolt 2", False)]


def test_types_lineage_and_utc(con, tmp_path):
    landing = tmp_path / "landing"
    t = table("crm.accounts")
    a1, a2 = clean_rows(DAYS[0])["crm.accounts"]
    write_extract(
        landing,
        DAYS[0],
        {
            "crm.accounts": [
                {**a1, "created_at": "2026-01-01T10:00:00+02:00"},
                {**a2, "created_at": "2026-01-01 10:00:00"},
            ]
        },
    )
    load_table(con, t, table_files(landing, t), "r1")
    rows = q(
        con,
        "SELECT account_id, created_at, _file, _extract_id, _row_number, _is_deleted "
        "FROM raw.crm__accounts ORDER BY 1",
    )
    assert rows == [
        ("A1", dt.datetime(2026, 1, 1, 8), f"crm/accounts/{DAYS[0]}.csv", DAYS[0], 1, False),
        ("A2", dt.datetime(2026, 1, 1, 10), f"crm/accounts/{DAYS[0]}.csv", DAYS[0], 2, False),
    ]
    ddl_types = q(
        con,
        "SELECT data_type FROM information_schema.columns WHERE "
        "table_schema = 'raw' AND table_name = 'billing__invoices' "
        "AND column_name = 'total'",
    )
    assert ddl_types == [("DECIMAL(18,4)",)]


def test_unreadable_and_incomplete_files_are_quarantined_whole(con, tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "billing" / "payments"
    rows = clean_rows(DAYS[0])["billing.payments"]
    t = table("billing.payments")
    # missing required column `amount`
    write_csv(folder / f"{DAYS[0]}.csv", [c for c in t.column_names if c != "amount"], rows * 3)
    # bad encoding
    (folder / f"{DAYS[1]}.csv").write_bytes(b"payment_id,invoice_id\nP\xff\xfe,1\nP2,2\n")
    # neither CSV nor Parquet
    (folder / f"{DAYS[2]}.json").write_text('{"payment_id": "P9"}')
    res = load_table(con, t, table_files(landing, t), "r1")
    by_file = {f.file.rsplit("/", 1)[1]: f for f in res.files}
    assert by_file[f"{DAYS[0]}.csv"].reasons == {"missing_column": 1}
    assert by_file[f"{DAYS[0]}.csv"].rows_read == 3
    assert by_file[f"{DAYS[1]}.csv"].reasons == {"unreadable_file": 1}
    assert by_file[f"{DAYS[1]}.csv"].rows_read == 2
    assert by_file[f"{DAYS[2]}.json"].reasons == {"unreadable_file": 1}
    assert all(f.status == "rejected" and f.rows_loaded == 0 for f in res.files)
    assert q(con, "SELECT count(*) FROM quarantine.files")[0][0] == 3
    assert q(con, "SELECT count(*) FROM raw.billing__payments")[0][0] == 0
    assert_reconciles(con)
    assert all(
        code in REASON_CODES for (code,) in q(con, "SELECT reason_code FROM quarantine.files")
    )


def test_parquet_and_extra_columns(con, tmp_path):
    landing = tmp_path / "landing"
    t = table("billing.invoices")
    rows = [{**r, "sales_rep": "kim"} for r in clean_rows(DAYS[0])["billing.invoices"]]
    path = landing / "billing" / "invoices" / f"{DAYS[0]}.parquet"
    path.parent.mkdir(parents=True)
    pl.DataFrame(rows).with_columns(pl.col("total").cast(pl.Float64)).write_parquet(path)
    res = load_table(con, t, table_files(landing, t), "r1")
    assert res.files[0].rows_loaded == 1 and res.files[0].extra_columns == ("sales_rep",)
    extra, total = q(con, "SELECT _extra, total FROM raw.billing__invoices")[0]
    assert json.loads(extra) == {"sales_rep": "kim"} and str(total) == "1000.0000"
    assert q(con, 'SELECT "column", reason_code FROM audit.schema_drift') == [
        ("sales_rep", "extra_column")
    ]


def test_referential_rules_are_reported_rows_stay(con, tmp_path):
    landing = tmp_path / "landing"
    rows = clean_rows(DAYS[0])
    rows["billing.invoices"][0]["account_id"] = "GHOST"
    rows["billing.usage"][0]["usage_metric"] = "gigabytes"
    rows["billing.payments"][0]["currency"] = "GBP"  # rates exist only from DAYS[0]
    rows["billing.payments"][0]["attempted_at"] = "2025-06-01T00:00:00Z"
    write_extract(landing, DAYS[0], rows)
    load_all(con, landing)
    summary = check_references(con, "r1")
    got = set(q(con, 'SELECT "table", "column", value, reason_code FROM audit.reference_breaches'))
    assert got == {
        ("invoices", "account_id", "GHOST", "unknown_reference"),
        ("usage", "usage_metric", "gigabytes", "unknown_reference"),
        ("payments", "currency", "GBP", "no_fx_rate"),
    }
    assert {s.table for s in summary} == {"billing.invoices", "billing.usage", "billing.payments"}
    assert q(con, "SELECT count(*) FROM raw.billing__invoices")[0][0] == 1  # kept
    reason = q(con, "SELECT reason FROM audit.reference_breaches WHERE value = 'GHOST'")[0][0]
    assert "billing/invoices" in reason and "crm.accounts" in reason
