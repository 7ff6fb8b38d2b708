"""Acceptance: a build of a generated company (with injected bad rows) publishes, quarantines
exactly the manifest's row rejects and reconciles every file."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt

import pytest

from pipelines.contract.model import ROW_REJECT_REASONS
from pipelines.settings import get_settings
from pipelines.warehouse.build import run_build
from pipelines.warehouse.readonly import connect_readonly

generate_mod = pytest.importorskip("pipelines.generate")
pytestmark = pytest.mark.slow


def test_generated_company_builds_and_publishes(tmp_path):
    landing = tmp_path / "landing"
    generate_mod.generate(
        landing,
        scale=0.05,
        seed=11,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
        daily=1,
        bad_rows=0.01,
    )
    with (tmp_path / "landing.truth" / "bad_rows.csv").open() as fh:
        truth = [d for d in csv.DictReader(fh) if d["reason_code"] in ROW_REJECT_REASONS]
    s = get_settings(landing_dir=landing, warehouse_dir=tmp_path / "wh")
    r = run_build(s)
    assert r.published, r.failure_reason
    assert r.as_of_date == dt.date(2026, 1, 1)  # the latest extract
    with contextlib.closing(connect_readonly(s.current_warehouse)) as con:
        got = set(
            con.execute(
                'SELECT source, "table", file, row_number, "column", reason_code '
                "FROM quarantine.rows"
            ).fetchall()
        )
        assert got == {
            (
                d["source"],
                d["table"],
                d["file"],
                int(d["row_number"]),
                d["column"],
                d["reason_code"],
            )
            for d in truth
        }
        assert con.execute(
            "SELECT count(*) FROM audit.load_log WHERE rows_read <> rows_loaded + rows_quarantined"
        ).fetchall() == [(0,)]
        assert con.execute("SELECT status FROM audit.runs").fetchall() == [("published",)]
