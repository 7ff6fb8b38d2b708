"""`subops map` and `subops generate --shape` from the command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pipelines.cli import app

from .test_faults import _export

runner = CliRunner()
ENV = {"COLUMNS": "200"}


def test_map_writes_extracts_and_lists_what_it_could_not_place(tmp_path):
    src = _export(tmp_path)
    landing = tmp_path / "landing"
    args = ["map", "--mapping", "zendesk", "--from", str(src), "--to", str(landing)]
    r = runner.invoke(app, args, env=ENV)
    assert r.exit_code == 0, r.output
    assert "2 row(s) could not be placed" in r.output
    assert "zendesk/2026-10-31/tickets.csv row 2 column tickets.status" in r.output
    assert (landing / "support/tickets/2026-10-31.csv").is_file()


def test_map_check_against_an_export_names_what_it_lacks(tmp_path):
    src = _export(tmp_path)
    check = ["map", "--mapping", "zendesk", "--check", "--from", str(src)]
    ok = runner.invoke(app, check, env=ENV)
    assert ok.exit_code == 0, ok.output
    assert "every column it reads is in" in ok.output
    tickets = src / "2026-10-31" / "tickets.csv"
    tickets.write_text(tickets.read_text().replace("priority", "prio"))
    bad = runner.invoke(app, check, env=ENV)
    assert bad.exit_code != 0
    assert "tickets.priority (for support.tickets.priority)" in str(bad.exception or bad.output)


def test_generate_shape_writes_the_systems_exports(tmp_path):
    out = tmp_path / "acme"
    args = ["generate", "--out", str(out), "--scale", "0.01", "--start", "2026-06-01"]
    r = runner.invoke(app, [*args, "--shape", "zendesk"], env=ENV)
    assert r.exit_code == 0, r.output
    assert not (out / "support" / "tickets").exists()
    export = Path(f"{out}.zendesk")
    assert sorted(p.name for p in next(export.iterdir()).iterdir()) == [
        "organizations.csv", "ticket_metrics.csv", "tickets.csv",
    ]  # fmt: skip
    assert "subops map --mapping zendesk" in r.output
