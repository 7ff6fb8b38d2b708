"""Class 1: rows are counted as the file holds them, not as a parser happens to split them.

Each file here is written byte by byte; for every one, rows read must equal the file's own
non-blank data lines, and rows read = rows loaded + rows quarantined.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import polars as pl
from landing_fixture import clean_rows

from pipelines.contract import table
from pipelines.ingest.checks import reconciliation_check
from pipelines.ingest.landing import scan_landing
from pipelines.ingest.load import TableResult, load_table
from pipelines.ingest.records import count_lines

PAYMENTS = table("billing.payments")
HEADER = ",".join(PAYMENTS.column_names)
DAY = "2026-01-05"


def payment_line(i: int, amount: str = "100.00", reason: str = "") -> str:
    row = dict(clean_rows(DAY, 0)["billing.payments"][0], payment_id=f"P{i}", amount=amount)
    row["failure_reason"] = reason
    return ",".join(row.get(c, "") for c in PAYMENTS.column_names)


def write(landing: Path, body: str | bytes, name: str = f"{DAY}.csv") -> Path:
    path = landing / "billing" / "payments" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return path


def load(con: duckdb.DuckDBPyConnection, landing: Path, run: str = "r1") -> TableResult:
    return load_table(con, PAYMENTS, scan_landing(landing).for_table(PAYMENTS), run)


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    return con.execute(
        "SELECT row_number, reason_code FROM quarantine.rows ORDER BY row_number"
    ).fetchall()


def loaded_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT payment_id FROM raw.billing__payments ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def assert_identity(con: duckdb.DuckDBPyConnection, res: TableResult, path: Path) -> None:
    (f,) = [f for f in res.files if f.file.endswith(path.name)]
    assert f.rows_read == count_lines(path.read_bytes())
    assert f.rows_read == f.rows_loaded + f.rows_quarantined
    assert reconciliation_check(con, PAYMENTS, "r1").passed


def test_unbalanced_quote_cannot_swallow_the_rows_after_it(con, tmp_path):
    lines = [payment_line(i) for i in range(1, 6)]
    lines[2] = payment_line(3, reason='"card declined')  # opens a quote ...
    lines[4] = payment_line(5, reason='expired"')  # ... closed two rows later
    path = write(tmp_path, "\n".join([HEADER, *lines, ""]))
    res = load(con, tmp_path)
    assert_identity(con, res, path)
    assert quarantined(con) == [(3, "malformed_record"), (5, "malformed_record")]
    assert loaded_ids(con) == ["P1", "P2", "P4"]  # row 4 is read on its own, not swallowed
    reason = con.execute("SELECT reason FROM quarantine.rows WHERE row_number = 3").fetchall()
    assert "row 3 (line 4)" in reason[0][0] and "quoting" in reason[0][0]


def test_file_cut_mid_row_quarantines_the_last_row(con, tmp_path):
    body = "\n".join([HEADER, payment_line(1), payment_line(2, amount="494.94")])
    path = write(tmp_path, body[: body.rindex("494.94") + 2])  # cut: "...,49"
    res = load(con, tmp_path)
    assert_identity(con, res, path)
    assert quarantined(con) == [(2, "truncated_record")]
    assert loaded_ids(con) == ["P1"]
    amounts = con.execute("SELECT amount FROM raw.billing__payments").fetchall()
    assert all(a[0] != 49 for a in amounts)
    rec = con.execute("SELECT raw_record FROM quarantine.rows").fetchall()[0][0]
    assert json.loads(rec)["payment_id"] == "P2"  # the key stays visible for the fix


def test_a_row_with_too_many_or_too_few_fields_is_set_aside_alone(con, tmp_path):
    lines = [payment_line(i) for i in range(1, 5)]
    lines[1] += ",surplus"
    lines[3] = lines[3].rsplit(",", 1)[0]
    path = write(tmp_path, "\n".join([HEADER, *lines, ""]))
    res = load(con, tmp_path)
    assert_identity(con, res, path)
    assert quarantined(con) == [(2, "malformed_record"), (4, "malformed_record")]
    assert loaded_ids(con) == ["P1", "P3"]
    reasons = [r[0] for r in con.execute("SELECT reason FROM quarantine.rows").fetchall()]
    assert any("must be quoted" in r for r in reasons)
    assert any("value is missing" in r for r in reasons)


def test_blank_lines_crlf_and_bom_keep_row_numbers_true(con, tmp_path):
    body = "\ufeff" + "\r\n".join([HEADER, payment_line(1), "", payment_line(2, "x"), ""])
    path = write(tmp_path, body)
    res = load(con, tmp_path)
    assert_identity(con, res, path)
    assert res.files[0].rows_read == 2
    # row numbers are line numbers minus the header, blank lines included
    assert quarantined(con) == [(3, "bad_type")]


def test_quoted_commas_and_doubled_quotes_are_values(con, tmp_path):
    body = "\n".join([HEADER, payment_line(1, reason='"declined, ""insufficient"""'), ""])
    path = write(tmp_path, body)
    res = load(con, tmp_path)
    assert_identity(con, res, path)
    got = con.execute("SELECT failure_reason FROM raw.billing__payments").fetchall()
    assert got == [('declined, "insufficient"',)]


def test_parquet_rows_are_counted_from_its_footer(con, tmp_path):
    rows = [dict(clean_rows(DAY, 0)["billing.payments"][0], payment_id=f"P{i}") for i in range(3)]
    path = tmp_path / "billing" / "payments" / f"{DAY}.parquet"
    path.parent.mkdir(parents=True)
    pl.DataFrame(rows).write_parquet(path)
    res = load(con, tmp_path)
    assert res.files[0].rows_read == 3 and res.files[0].rows_loaded == 3


def test_header_only_and_empty_files(con, tmp_path):
    write(tmp_path, HEADER + "\n", "2026-01-05.csv")
    write(tmp_path, b"", "2026-01-06.csv")
    res = load(con, tmp_path)
    by = {f.extract_id: f for f in res.files}
    assert (by["2026-01-05"].rows_read, by["2026-01-05"].status) == (0, "loaded")
    assert by["2026-01-06"].status == "rejected"
    reason = con.execute("SELECT reason FROM quarantine.files").fetchall()[0][0]
    assert "no header row" in reason


def test_fuzzed_files_always_reconcile(tmp_path):
    """Random damage to a good file (stray quotes, commas, cut lines, blank lines, a cut end):
    whatever happens, every line is accounted for, loaded or quarantined."""
    from reliability_helpers import fresh_warehouse

    rng = random.Random(9)
    for case in range(25):
        lines = [
            payment_line(i, amount=f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}")
            for i in range(1, 12)
        ]
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(lines))
            kind = rng.choice(["quote", "comma", "cut", "blank", "dup"])
            if kind == "quote":
                pos = rng.randrange(len(lines[i]))
                lines[i] = lines[i][:pos] + '"' + lines[i][pos:]
            elif kind == "comma":
                lines[i] += ","
            elif kind == "cut":
                lines[i] = lines[i][: rng.randrange(1, len(lines[i]))]
            elif kind == "blank":
                lines.insert(i, "")
            else:
                lines.insert(i, lines[i])
        body = "\n".join([HEADER, *lines]) + ("\n" if rng.random() < 0.7 else "")
        landing = tmp_path / f"case{case}"
        path = write(landing, body)
        con = fresh_warehouse()
        res = load(con, landing)
        (f,) = res.files
        if f.status == "rejected":  # e.g. the header itself was hit: whole file, counted
            assert f.rows_quarantined == f.rows_read
            continue
        assert f.rows_read == count_lines(path.read_bytes()), case
        assert f.rows_read == f.rows_loaded + f.rows_quarantined, case
        in_quarantine = con.execute("SELECT count(*) FROM quarantine.rows").fetchall()[0][0]
        assert in_quarantine == f.rows_quarantined, case
        raw = con.execute("SELECT count(*) FROM raw.billing__payments").fetchall()[0][0]
        assert raw == f.rows_loaded - f.rows_superseded, case
        con.close()
