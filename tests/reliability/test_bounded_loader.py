"""Issue 12: the loader holds one batch of a file, never the whole file, and what it loads does
not depend on the batch size. Every case loads the same folder with the production batch size
and with batches of a few bytes (a line or two per batch, so every row, repeated key, blank line
and cut-off end falls on a batch boundary somewhere) and compares raw, quarantine and the log."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from landing_fixture import DAYS, clean_rows, write_clean, write_csv, write_with_bad_rows
from reliability_helpers import fresh_warehouse

import pipelines.ingest.records as records
from pipelines.contract import TABLES, table
from pipelines.ingest.landing import scan_landing
from pipelines.ingest.load import load_table

PAYMENTS = table("billing.payments")


def load_everything(landing: Path) -> dict[str, list[tuple]]:
    """Load every table of `landing` into a fresh warehouse; its content, order-independent."""
    con = fresh_warehouse()
    scan = scan_landing(landing)
    for t in TABLES:
        load_table(con, t, scan.for_table(t), "r1")
    out = {
        t.raw_table: con.execute(
            f"SELECT * EXCLUDE (_loaded_at) FROM raw.{t.raw_table} ORDER BY ALL"
        ).fetchall()
        for t in TABLES
    }
    out["quarantine"] = con.execute(
        'SELECT source, "table", file, row_number, "column", reason_code, reason, raw_record '
        "FROM quarantine.rows ORDER BY ALL"
    ).fetchall()
    out["files"] = con.execute(
        'SELECT source, "table", file, reason_code, reason, rows_read FROM quarantine.files '
        "ORDER BY ALL"
    ).fetchall()
    out["log"] = con.execute(
        'SELECT source, "table", file, rows_read, rows_loaded, rows_quarantined, status, '
        "rows_superseded FROM audit.load_log ORDER BY ALL"
    ).fetchall()
    con.close()
    return out


def same_in_any_batch_size(landing: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    whole = load_everything(landing)
    with monkeypatch.context() as m:
        m.setattr(records, "BATCH_BYTES", 64)
        m.setattr(records, "BATCH_ROWS", 1)
        tiny = load_everything(landing)
    assert tiny == whole
    return whole


def payment_line(i: int, amount: str = "100.00") -> str:
    row = dict(clean_rows(DAYS[0], 0)["billing.payments"][0], payment_id=f"P{i}", amount=amount)
    return ",".join(row.get(c, "") for c in PAYMENTS.column_names)


def write_payments(landing: Path, body: str, name: str = f"{DAYS[0]}.csv") -> None:
    path = landing / "billing" / "payments" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body.encode())


def test_a_company_with_bad_rows_loads_the_same_in_batches_of_a_line(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    write_with_bad_rows(landing)
    write_clean(landing, DAYS[2:])  # a third extract: several files per table
    out = same_in_any_batch_size(landing, monkeypatch)
    assert any(r[5] == "duplicate_key" for r in out["quarantine"])  # read back from the file
    assert len({r[5] for r in out["quarantine"]}) >= 5


def test_damaged_lines_blank_lines_bom_and_a_cut_end_load_the_same(tmp_path, monkeypatch):
    header = ",".join(PAYMENTS.column_names)
    lines = [payment_line(i) for i in range(1, 9)]
    lines[1] += ",surplus"  # too many fields
    lines[3] = lines[3].replace("100.00", '"100.00')  # an unbalanced quote
    lines[5] = payment_line(1)  # the key of row 1 again, five lines later
    body = "\ufeff" + "\r\n".join([header, *lines[:4], "", "", *lines[4:]])
    write_payments(tmp_path, body[: body.rindex("100.00") + 3])  # cut: no final line break
    out = same_in_any_batch_size(tmp_path, monkeypatch)
    codes = {r[3]: r[5] for r in out["quarantine"]}
    assert codes == {
        2: "malformed_record",
        4: "malformed_record",
        8: "duplicate_key",
        10: "truncated_record",
    }
    assert [r[3:6] for r in out["log"]] == [(8, 4, 4)]


def test_a_cut_end_whose_last_piece_is_blank_sets_aside_the_last_row(tmp_path, monkeypatch):
    """The file ends with a stray carriage return and no line break: the row before it (in an
    earlier batch when batches are small) is the one that may be cut off."""
    header = ",".join(PAYMENTS.column_names)
    write_payments(tmp_path, "\n".join([header, payment_line(1), payment_line(2), "\r"]))
    out = same_in_any_batch_size(tmp_path, monkeypatch)
    assert [(r[3], r[5]) for r in out["quarantine"]] == [(2, "truncated_record")]
    assert [r[0] for r in out[PAYMENTS.raw_table]] == ["P1"]


def test_parquet_and_extra_columns_load_the_same(tmp_path, monkeypatch):
    rows = [
        dict(clean_rows(DAYS[0], 0)["billing.payments"][0], payment_id=f"P{i}") for i in range(5)
    ]
    rows[3]["amount"] = "-1"
    rows[4]["payment_id"] = "P0"  # a repeated key, read back from the Parquet file
    path = tmp_path / "billing" / "payments" / f"{DAYS[0]}.parquet"
    path.parent.mkdir(parents=True)
    pl.DataFrame(rows).with_columns(pl.lit("x").alias("note")).write_parquet(path)
    write_csv(
        tmp_path / "billing" / "payments" / f"{DAYS[1]}.csv",
        [*PAYMENTS.column_names, "note"],
        [dict(r, note="y", payment_id=f"Q{i}") for i, r in enumerate(rows)],
    )
    out = same_in_any_batch_size(tmp_path, monkeypatch)
    assert len(out[PAYMENTS.raw_table]) == 7
    assert [(r[2][-7:], r[3], r[5]) for r in out["quarantine"]] == [
        ("parquet", 4, "negative_amount"),
        ("parquet", 5, "duplicate_key"),
        ("-02.csv", 4, "negative_amount"),
    ]
    dup = next(r[7] for r in out["quarantine"] if r[5] == "duplicate_key")
    assert '"payment_id": "P0"' in dup and '"note": "x"' in dup


def test_the_reader_holds_one_batch_not_the_file(tmp_path, monkeypatch):
    """Every batch stays within the configured size: memory follows the batch, not the file."""
    header = ",".join(PAYMENTS.column_names)
    write_payments(tmp_path, "\n".join([header, *(payment_line(i) for i in range(400)), ""]))
    monkeypatch.setattr(records, "BATCH_BYTES", 4096)
    (lf,) = scan_landing(tmp_path).for_table(PAYMENTS)
    recs = records.read_records(lf)
    sizes = [len(payment_line(i)) + 1 for i in range(400)]
    heights = [df.height for df in recs.batches()]
    assert len(heights) > 5 and sum(heights) == recs.rows_read == 400
    assert max(heights) <= (4096 + max(sizes)) // min(sizes) + 1


def test_a_file_refused_part_way_leaves_nothing_behind(tmp_path, monkeypatch):
    """Damage found in a later batch (bytes that are not UTF-8) refuses the whole file, and
    the rows of its earlier batches are taken out again."""
    header = ",".join(PAYMENTS.column_names)
    body = "\n".join([header, *(payment_line(i) for i in range(50)), ""]).encode()
    path = tmp_path / "billing" / "payments" / f"{DAYS[0]}.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(body + b"P\xff\n")
    monkeypatch.setattr(records, "BATCH_BYTES", 256)
    con = fresh_warehouse()
    (res,) = [load_table(con, PAYMENTS, scan_landing(tmp_path).for_table(PAYMENTS), "r1")]
    assert [(f.status, f.rows_read) for f in res.files] == [("rejected", 51)]
    assert con.execute(f"SELECT count(*) FROM raw.{PAYMENTS.raw_table}").fetchall() == [(0,)]
    assert (
        "not UTF-8 at byte" in con.execute("SELECT reason FROM quarantine.files").fetchall()[0][0]
    )
    # the loader's staging tables do not outlive the load
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall() == [(0,)]


def test_a_nightly_file_merges_into_a_loaded_table_the_same_way(tmp_path):
    """The second load goes through a staging table and a merge (raw already holds rows): the
    result equals loading every file at once (an append table, a versioned one, a snapshot)."""
    landing = tmp_path / "landing"
    write_clean(landing, DAYS)
    scan = scan_landing(landing)
    nightly, at_once = fresh_warehouse(), fresh_warehouse()
    for name in ("billing.payments", "billing.invoices", "crm.accounts"):
        t = table(name)
        load_table(nightly, t, [f for f in scan.for_table(t) if f.extract_id != DAYS[2]], "r1")
        load_table(nightly, t, scan.for_table(t), "r2")
        load_table(at_once, t, scan.for_table(t), "r1")
        sql = f"SELECT * EXCLUDE (_loaded_at) FROM raw.{t.raw_table} ORDER BY ALL"
        assert nightly.execute(sql).fetchall() == at_once.execute(sql).fetchall(), name
