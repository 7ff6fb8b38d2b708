"""`make bench-quick` stays runnable: `subops bench --quick` (scale 0.1, each measurement once)
end to end into tmp folders. Times are reported, never asserted (the machine is shared); what is
asserted is that every measurement was taken and that the pandas peer's MRR equals the marts'."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bench import run as bench_run
from bench.measure import BenchError, repeated
from bench.report import markdown, summary_rows
from dashboards import timing
from pipelines.cli import app


def test_a_short_run_is_repeated_and_a_long_one_is_not():
    assert len(repeated(lambda i: 0.1, lambda s: s, repeats=3, short=1.0)) == 3
    assert len(repeated(lambda i: 5.0, lambda s: s, repeats=3, short=1.0)) == 1


def test_a_scale_whose_build_fails_is_reported_and_the_others_kept(monkeypatch, tmp_path):
    """A build that does not publish at one scale (out of memory at --scale 300, say) must not
    lose the scales measured before it: the report keeps them and names the failure."""
    done = {"scale": 1.0, "company": "c1"}

    def fake(spec, options, say):
        if spec.scale == 300:
            raise BenchError("the build into w did not publish (exit 1) after 9 s: out of memory")
        return done

    monkeypatch.setattr(bench_run, "bench_scale", fake)
    options = bench_run.BenchOptions(scales=(1.0, 300.0), results_dir=tmp_path)
    report = bench_run.run_bench(options, say=lambda _m: None)
    assert report["scales"][0] is done
    assert report["scales"][1] == {
        "scale": 300.0,
        "company": bench_run.CompanySpec(300.0).key,
        "error": "the build into w did not publish (exit 1) after 9 s: out of memory",
    }
    report["scales"] = report["scales"][1:]  # the failed one alone renders without numbers
    assert summary_rows(report) == []
    assert "## Scale 300: not measured\n\nthe build into w did not publish" in markdown(report)


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
