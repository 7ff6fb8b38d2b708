"""Acceptance against the synthetic generator: every injected bad row is caught with the
manifest's reason code (row rejects in quarantine, file rejects whole, report-only codes in the
audit tables) and nothing else is rejected."""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import pytest

from pipelines.contract import TABLES
from pipelines.contract.model import (
    FILE_REJECT_REASONS,
    LANDING_REJECT_REASONS,
    RECORD_REJECT_REASONS,
    ROW_REJECT_REASONS,
)
from pipelines.ingest.landing import scan_landing, table_files
from pipelines.ingest.load import load_table
from pipelines.ingest.references import check_references

generate_mod = pytest.importorskip("pipelines.generate")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    from pipelines.warehouse.schema import ensure_schema

    root = tmp_path_factory.mktemp("gen")
    landing = root / "landing"
    generate_mod.generate(
        landing,
        scale=0.05,
        seed=3,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
        daily=2,
        bad_rows=0.01,
    )
    truth_path = root / "landing.truth" / "bad_rows.csv"
    with truth_path.open() as fh:
        truth = list(csv.DictReader(fh))
    con = duckdb.connect(str(root / "w.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    ensure_schema(con)
    for t in TABLES:
        load_table(con, t, table_files(landing, t), "gen")
    check_references(con, "gen")
    yield con, truth, landing
    con.close()


def _key(d: dict) -> tuple:
    return (
        d["source"],
        d["table"],
        d["file"],
        int(d["row_number"] or 0),
        d["column"],
        d["reason_code"],
    )


@pytest.mark.parametrize("codes", [ROW_REJECT_REASONS, RECORD_REJECT_REASONS])
def test_row_rejects_match_the_truth_exactly(loaded, codes):
    con, truth, _ = loaded
    expected = {_key(d) for d in truth if d["reason_code"] in codes}
    got = {
        (s, t, f, r, c or "", code)
        for s, t, f, r, c, code in con.execute(
            'SELECT source, "table", file, row_number, "column", reason_code FROM quarantine.rows'
        ).fetchall()
        if code in codes
    }
    assert expected, "the generator injected no such rejects"
    assert got == expected


def test_landing_refusals_match_the_truth(loaded):
    _, truth, landing = loaded
    expected = {
        (d["file"], d["reason_code"]) for d in truth if d["reason_code"] in LANDING_REJECT_REASONS
    }
    assert expected and {(r.rel, r.code) for r in scan_landing(landing).refused} == expected


def test_file_rejects_match_the_truth(loaded):
    con, truth, _ = loaded
    expected = {
        (d["file"], d["reason_code"]) for d in truth if d["reason_code"] in FILE_REJECT_REASONS
    }
    got = set(con.execute("SELECT file, reason_code FROM quarantine.files").fetchall())
    assert got == expected


def test_report_only_codes_are_reported_and_rows_kept(loaded):
    con, truth, _ = loaded
    refs = {_key(d) for d in truth if d["reason_code"] in ("unknown_reference", "no_fx_rate")}
    got = set(
        con.execute(
            'SELECT source, "table", file, row_number, "column", reason_code '
            "FROM audit.reference_breaches"
        ).fetchall()
    )
    assert refs <= got
    drift = {(d["file"], d["column"]) for d in truth if d["reason_code"] == "extra_column"}
    assert drift <= set(con.execute('SELECT file, "column" FROM audit.schema_drift').fetchall())


def test_every_file_reconciles(loaded):
    con, _, _ = loaded
    assert con.execute(
        "SELECT count(*) FROM audit.load_log WHERE rows_read <> rows_loaded + rows_quarantined"
    ).fetchall() == [(0,)]
