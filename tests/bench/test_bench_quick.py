"""`make bench-quick` stays runnable: `subops bench --quick` (scale 0.1, each measurement once)
end to end into tmp folders. Times are reported, never asserted (the machine is shared); what is
asserted is that every measurement was taken and that the pandas peer's MRR equals the marts'."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bench.measure import repeated
from dashboards import timing
from pipelines.cli import app


def test_a_short_run_is_repeated_and_a_long_one_is_not():
    assert len(repeated(lambda i: 0.1, lambda s: s, repeats=3, short=1.0)) == 3
    assert len(repeated(lambda i: 5.0, lambda s: s, repeats=3, short=1.0)) == 1


def test_quick_bench_measures_everything(tmp_path: Path):
    dirs = {name: tmp_path / name for name in ("cache", "work", "results")}
    args = ["bench", "--quick"] + [f"--{k}-dir={v}" for k, v in dirs.items()]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "peer MRR match" in result.output

    (json_file,) = dirs["results"].glob("*-quick.json")
    report = json.loads(json_file.read_text())
    assert json_file.with_suffix(".md").read_text().count("| scale |") == 1
    assert report["machine"]["cores"] and report["options"]["quick"]
    (scale,) = report["scales"]
    assert scale["scale"] == 0.1 and scale["rows"] > 0 and scale["floor_s"] > 0
    full, nightly = scale["full_build"], scale["nightly"]
    assert full["rows_loaded"] == scale["rows"]  # a full build loads every row the floor counts
    assert sum(full["steps_s"].values()) > 0 and full["peak_rss_bytes"] > 0
    assert full["warehouse_bytes"] > 0
    assert 0 < nightly["rows_loaded"] < full["rows_loaded"] and nightly["steps_s"]
    assert [p["page"] for p in scale["pages"]] == [Path(p).stem for p in timing.PAGES]
    mrr = scale["peer"]["mrr"]
    assert mrr["months"] > 0 and mrr["months_within_a_cent"] == mrr["months"], mrr
    assert not (dirs["work"] / scale["company"]).exists()  # warehouses removed afterwards
