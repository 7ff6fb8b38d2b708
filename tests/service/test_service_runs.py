"""`subops runs`: recent builds from logs/runs.jsonl (the index; a failed build's file is gone)
and audit.runs of the build files still there. No Dagster build: hand-made build files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.service.history import recent_runs
from pipelines.settings import Settings, get_settings
from pipelines.warehouse.failures import append_run_record
from pipelines.warehouse.publish import prepare_build, record_run, switch_current, utcnow

runner = CliRunner()


def _published(s: Settings, run_id: str, as_of: dt.date) -> Path:
    path = prepare_build(s, run_id, full_refresh=False, as_of=as_of)
    record_run(path, run_id=run_id, status="published")
    switch_current(s, path)
    return path


def test_runs_lists_published_and_failed_builds_newest_first(tmp_path: Path):
    s = get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")
    first = _published(s, "11111111-aaaa", dt.date(2026, 11, 28))
    failed_at = utcnow()
    append_run_record(
        s,
        {
            "run_id": "22222222-bbbb",
            "started_at": (failed_at - dt.timedelta(seconds=65)).isoformat(),
            "finished_at": failed_at.isoformat(),
            "status": "failed",
            "as_of_date": "2026-11-29",
            "rows_loaded": 1200,
            "rows_quarantined": 3,
            "failure_reason": "1 blocking check failed: raw/crm__accounts snapshot_deletions",
            "build_file": "20261129T020000Z-22222222.duckdb",
            "build_removed": True,
        },
    )
    (s.warehouse_dir / "logs" / "runs.jsonl").open("a").write("not json\n")  # skipped
    second = _published(s, "33333333-cccc", dt.date(2026, 11, 30))

    rows = recent_runs(s)
    assert [r.run_id for r in rows] == ["33333333-cccc", "22222222-bbbb", "11111111-aaaa"]
    assert [r.outcome for r in rows] == ["published v2", "failed", "published v1"]
    assert rows[0].source == "audit.runs" and rows[0].build_file == second.name
    assert rows[1].source == "runs.jsonl" and rows[1].seconds == 65
    assert rows[2].build_file == first.name  # from the history the published file carries

    result = runner.invoke(
        app, ["runs", "--warehouse-dir", str(s.warehouse_dir)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    failed = next(ln for ln in lines if "failed" in ln)
    when = failed_at.strftime("%Y-%m-%d %H:%M")
    for cell in (when, "2026-11-29", "1,200", "3", "65 s", "snapshot_deletions"):
        assert cell in failed, failed
    assert any("published v2" in ln and "2026-11-30" in ln and second.stem in ln for ln in lines)
    one = runner.invoke(
        app,
        ["runs", "--limit", "1", "--warehouse-dir", str(s.warehouse_dir)],
        env={"COLUMNS": "200"},
    )
    assert "published v2" in one.output and "published v1" not in one.output


def test_runs_without_any_build_says_so(tmp_path: Path):
    result = runner.invoke(app, ["runs", "--warehouse-dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code != 0
    assert "no builds recorded" in str(result.exception)


def test_serve_and_runs_document_themselves():
    for name in ("serve", "runs"):
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0 and "Examples" in result.output
        assert f"subops {name}" in result.output
