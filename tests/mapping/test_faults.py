"""Rows a mapping cannot place are quarantined with a reason naming the export file, its row
and column: an unknown status, a date in the wrong format, a column the export lacks. The build
copies them into quarantine.rows, and the landing scan leaves the mapping's folder alone."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.landing import scan_landing
from pipelines.mapping.model import load_mapping
from pipelines.mapping.run import map_exports
from pipelines.warehouse.audit import record_mapping_rejects
from pipelines.warehouse.schema import ensure_schema

TICKETS = (
    "id,external_id,organization_id,created_at,updated_at,priority,status,custom_category,"
    "custom_total_time_spent_sec,satisfaction_rating_score\n"
    "1001,TCK-1,7,2026-10-01T09:00:00Z,2026-10-02T09:00:00Z,high,solved,Billing,600,good\n"
    "1002,TCK-2,7,2026-10-03T09:00:00Z,2026-10-03T10:00:00Z,low,escalated,Other,60,\n"
    "1003,TCK-3,7,03/10/2026 09:00,2026-10-03T10:00:00Z,normal,open,Technical,,\n"
)
METRICS = (
    "id,ticket_id,reply_time_in_seconds_calendar,full_resolution_time_in_minutes_calendar,"
    "solved_at\n1,1001,3600,1440,2026-10-02T09:00:00Z\n2,1002,,,\n3,1003,,,\n"
)
ORGS = "id,external_id,name\n7,ACC-7,Acme\n"


def _export(root: Path, tickets: str = TICKETS) -> Path:
    d = root / "zendesk" / "2026-10-31"
    d.mkdir(parents=True)
    (d / "tickets.csv").write_text(tickets)
    (d / "ticket_metrics.csv").write_text(METRICS)
    (d / "organizations.csv").write_text(ORGS)
    return root / "zendesk"


def _quarantine(landing: Path) -> list[dict[str, str]]:
    with (landing / "_mapping/zendesk/quarantine/2026-10-31.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_unknown_status_and_bad_date_are_quarantined_naming_file_row_column(tmp_path):
    landing = tmp_path / "landing"
    r = map_exports(load_mapping("zendesk"), _export(tmp_path), landing)
    assert (r.rows_written, r.rows_quarantined) == (1, 2)
    q = {row["row_number"]: row for row in _quarantine(landing)}
    status, date = q["2"], q["3"]
    assert status["reason_code"] == "bad_enum" and status["column"] == "tickets.status"
    assert status["reason"].startswith("zendesk/2026-10-31/tickets.csv row 2 column tickets.status")
    assert "'escalated' is not in the value map of support.tickets.status" in status["reason"]
    assert date["reason_code"] == "bad_type" and date["column"] == "tickets.created_at"
    assert date["reason"].startswith(
        "zendesk/2026-10-31/tickets.csv row 3 column tickets.created_at: '03/10/2026 09:00'"
    )
    assert '"external_id":"TCK-3"' in date["raw_record"]
    with (landing / "support/tickets/2026-10-31.csv").open() as fh:
        (good,) = list(csv.DictReader(fh))
    assert good["ticket_id"] == "TCK-1" and good["account_id"] == "ACC-7"
    assert good["first_response_at"] == "2026-10-01T10:00:00Z"
    assert good["handle_minutes"] == "10.0000" and good["csat_score"] == "5"
    with (landing / "_mapping/zendesk/lineage/support/tickets/2026-10-31.csv").open() as fh:
        assert list(csv.DictReader(fh)) == [
            {"row_number": "1", "source_file": "zendesk/2026-10-31/tickets.csv", "source_row": "1"}
        ]


def test_a_missing_column_quarantines_every_row_naming_it(tmp_path):
    landing = tmp_path / "landing"
    no_priority = "\n".join(
        ",".join(f for i, f in enumerate(line.split(",")) if i != 5)
        for line in TICKETS.splitlines()
    )
    r = map_exports(load_mapping("zendesk"), _export(tmp_path, no_priority), landing)
    assert (r.rows_written, r.rows_quarantined) == (0, 3)
    q = _quarantine(landing)
    assert {row["reason_code"] for row in q} == {"missing_column"}
    assert {row["column"] for row in q} == {"priority"}
    assert q[0]["reason"] == (
        "zendesk/2026-10-31/tickets.csv row 1 column priority: the export file tickets has no "
        "column 'priority' (maps to support.tickets.priority); add it to the export or change "
        "mappings/zendesk.yml"
    )


def test_the_build_records_mapping_rejects_and_the_scan_skips_their_folder(tmp_path):
    landing = tmp_path / "landing"
    map_exports(load_mapping("zendesk"), _export(tmp_path), landing)
    scan = scan_landing(landing, today=dt.date(2026, 11, 1))
    assert [f.rel for f in scan.files] == ["support/tickets/2026-10-31.csv"]
    assert scan.refused == []
    at = dt.datetime(2026, 11, 1, 6)
    with contextlib.closing(duckdb.connect(str(tmp_path / "b.duckdb"))) as con:
        ensure_schema(con)
        assert record_mapping_rejects(con, landing, "run-1", at) == 2
        assert record_mapping_rejects(con, landing, "run-2", at) == 2  # replaced, not added
        rows = con.execute(
            'SELECT source, "table", file, row_number, "column", reason_code, mapping, run_id '
            "FROM quarantine.rows ORDER BY row_number"
        ).fetchall()
    assert rows == [
        ("support", "tickets", "zendesk/2026-10-31/tickets.csv", 2, "tickets.status",
         "bad_enum", "zendesk", "run-2"),
        ("support", "tickets", "zendesk/2026-10-31/tickets.csv", 3, "tickets.created_at",
         "bad_type", "zendesk", "run-2"),
    ]  # fmt: skip


def test_a_join_file_missing_from_the_export_is_an_error(tmp_path):
    src = _export(tmp_path)
    (src / "2026-10-31" / "organizations.csv").unlink()
    with pytest.raises(ValueError, match=r"joins organizations, but .* has no organizations\.csv"):
        map_exports(load_mapping("zendesk"), src, tmp_path / "landing")


def test_parquet_exports_map_like_csv(tmp_path):
    """Fivetran or Airbyte dumps are often Parquet: same rows, same reasons, same row numbers."""
    src = _export(tmp_path)
    folder = src / "2026-10-31"
    with contextlib.closing(duckdb.connect()) as con:
        for name in ("tickets", "ticket_metrics", "organizations"):
            csv_path = folder / f"{name}.csv"
            con.execute(
                f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar = true)) "
                f"TO '{folder / name}.parquet' (FORMAT parquet)"
            )
            csv_path.unlink()
    landing = tmp_path / "landing"
    r = map_exports(load_mapping("zendesk"), src, landing)
    assert (r.rows_written, r.rows_quarantined) == (1, 2)
    assert [(q["row_number"], q["reason_code"]) for q in _quarantine(landing)] == [
        ("2", "bad_enum"),
        ("3", "bad_type"),
    ]
