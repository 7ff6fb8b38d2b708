"""Class 3: every file under the landing folder is loaded or refused with a reason; names parse
as extract ids; future extracts and links leaving the folder are refused."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from landing_fixture import DAYS, write_clean

from pipelines.ingest.landing import scan_landing
from pipelines.warehouse.audit import record_refused

TODAY = dt.date(2026, 1, 10)


def touch(landing: Path, rel: str, body: str = "a,b\n1,2\n") -> Path:
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def refused(landing: Path, **kw) -> dict[str, tuple[str, str]]:
    scan = scan_landing(landing, today=TODAY, **kw)
    return {r.rel: (r.code, r.reason) for r in scan.refused}


def test_a_clean_folder_refuses_nothing(tmp_path):
    landing = write_clean(tmp_path)
    scan = scan_landing(landing, today=TODAY)
    assert scan.refused == []
    assert len(scan.files) == 17 * 2
    assert scan.latest_extract_date() == dt.date.fromisoformat(DAYS[1])


def test_future_extract_is_refused_and_does_not_move_the_as_of_date(tmp_path):
    landing = write_clean(tmp_path)
    touch(landing, "billing/payments/2099-01-01.csv")
    touch(landing, "billing/usage/2026-01-11.csv")  # tomorrow: within the 1-day tolerance
    got = refused(landing)
    assert got["billing/payments/2099-01-01.csv"][0] == "future_extract"
    assert "billing/usage/2026-01-11.csv" not in got
    scan = scan_landing(landing, today=TODAY, tolerance_days=0)
    assert {r.rel for r in scan.refused} == {
        "billing/payments/2099-01-01.csv",
        "billing/usage/2026-01-11.csv",
    }
    assert scan.latest_extract_date() == dt.date.fromisoformat(DAYS[1])


def test_names_that_are_not_extract_ids_are_refused(tmp_path):
    landing = write_clean(tmp_path)
    for name in ("latest.csv", "2026-01-05-final.csv", "2026-02-30.csv", "2026-01-05T25000Z.csv"):
        touch(landing, f"billing/payments/{name}")
    touch(
        landing,
        "billing/payments/2026-01-05T101500Z.csv",
        (landing / "billing/payments" / f"{DAYS[0]}.csv").read_text(),
    )
    got = refused(landing)
    assert {k for k, v in got.items() if v[0] == "bad_extract_id"} == {
        "billing/payments/latest.csv",
        "billing/payments/2026-01-05-final.csv",
        "billing/payments/2026-02-30.csv",
        "billing/payments/2026-01-05T25000Z.csv",
    }
    assert "YYYY-MM-DD" in got["billing/payments/latest.csv"][1]
    scan = scan_landing(landing, today=TODAY)
    assert "2026-01-05T101500Z" in {f.extract_id for f in scan.files}  # timestamp ids are fine


def test_misplaced_files_are_refused_with_a_hint(tmp_path):
    landing = write_clean(tmp_path)
    cases = {
        ".DS_Store": "hidden",
        "billing/payments/.2026-01-05.csv.swp": "hidden",
        "Billing/payments/2026-01-05.csv": "did you mean 'billing'",
        "billing/Payments/2026-01-05.csv": "did you mean 'payments'",
        "billing/paymnets/2026-01-05.csv": "did you mean 'payments'",
        "hr/people/2026-01-05.csv": "unknown source folder",
        "billing/payments/2026/2026-01-05.csv": "nested",
        "notes.txt": "not inside <source>/<table>/",
        "billing/2026-01-05.csv": "not inside <source>/<table>/",
    }
    for rel in cases:
        touch(landing, rel)
    got = refused(landing)
    assert set(got) == set(cases)
    for rel, hint in cases.items():
        code, reason = got[rel]
        assert code == "misplaced_file", rel
        assert hint in reason and reason.startswith(rel), (rel, reason)


def test_links_leaving_the_folder_are_refused(tmp_path):
    landing = write_clean(tmp_path / "landing")
    outside = touch(tmp_path, "elsewhere/2026-01-05.csv")
    os.symlink(outside, landing / "billing/payments/2026-01-05.csv")
    os.symlink(outside.parent, landing / "billing/usage_link")
    inside = landing / "billing/payments" / f"{DAYS[0]}.csv"
    os.symlink(inside, landing / "billing/invoices/2026-01-06.csv")  # inside: an extract
    got = refused(landing)
    assert got["billing/payments/2026-01-05.csv"][0] == "outside_landing"
    assert got["billing/usage_link"][0] == "outside_landing"
    assert "billing/invoices/2026-01-06.csv" not in got


def test_two_files_for_one_extract_are_both_refused(tmp_path):
    landing = write_clean(tmp_path)
    touch(landing, f"billing/payments/{DAYS[0]}.parquet")
    got = refused(landing)
    assert {k for k, v in got.items() if v[0] == "duplicate_extract"} == {
        f"billing/payments/{DAYS[0]}.csv",
        f"billing/payments/{DAYS[0]}.parquet",
    }


def test_refusals_are_recorded_fresh_on_every_build(tmp_path, con):
    landing = write_clean(tmp_path)
    touch(landing, "billing/payments/latest.csv")
    touch(landing, "billing/payments/2099-01-01.csv")
    at = dt.datetime(2026, 1, 10)
    assert record_refused(con, scan_landing(landing, today=TODAY), "r1", at) == 2
    (landing / "billing/payments/latest.csv").unlink()
    assert record_refused(con, scan_landing(landing, today=TODAY), "r2", at) == 1
    rows = con.execute(
        'SELECT source, "table", file, reason_code, run_id, rows_read FROM quarantine.files'
    ).fetchall()
    assert rows == [
        ("billing", "payments", "billing/payments/2099-01-01.csv", "future_extract", "r2", 1)
    ]


def test_a_new_refused_file_is_news_for_the_nightly_and_the_sensor(tmp_path):
    """A misplaced file alone must reach the build summary: refusals that differ from those the
    published warehouse reports make the build (and the new-extracts sensor) run."""
    import dagster as dg
    import duckdb

    from pipelines.definitions import build_definitions
    from pipelines.defs.resources import WarehouseResource
    from pipelines.settings import get_settings
    from pipelines.warehouse.pending import landing_scan, pending_files, refusals_changed
    from pipelines.warehouse.schema import ensure_schema

    landing = write_clean(tmp_path / "landing")
    s = get_settings(landing_dir=landing, warehouse_dir=tmp_path / "wh")
    s.builds_dir.mkdir(parents=True)
    build = s.builds_dir / "b.duckdb"
    with duckdb.connect(str(build)) as c:
        ensure_schema(c)
        for f in landing_scan(s).files:
            c.execute(
                "INSERT INTO audit.load_log (file, sha256, status) VALUES ($f, $s, 'loaded')",
                {"f": f.rel, "s": f.sha256()},
            )
        record_refused(c, landing_scan(s), "r0", dt.datetime(2026, 1, 1))
    s.current_warehouse.symlink_to(build)
    sensor = build_definitions(s).resolve_sensor_def("new_extracts")
    ctx = dg.build_sensor_context(resources={"warehouse": WarehouseResource.from_settings(s)})

    assert pending_files(s) == [] and not refusals_changed(s, landing_scan(s))
    assert isinstance(sensor(ctx), dg.SkipReason)
    touch(landing, "billing/payments/latest.csv")
    assert pending_files(s) == [] and refusals_changed(s, landing_scan(s))
    assert isinstance(sensor(ctx), dg.RunRequest)
