"""A failed build says why in one line (cause and fix), keeps the detail in its log, leaves a
record in logs/runs.jsonl and removes its own files; `subops build` exits 1.

Unit tests for the wording of each cause; three real failures end to end: a DECIMAL overflow in
dbt, a builds folder that is a file, and a file-size limit hit in a `subops build` subprocess.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from landing_fixture import DAYS, clean_rows, write_extract
from typer.testing import CliRunner

from pipelines.defs.dbt.assets import dbt_failure_message
from pipelines.defs.instance import ensure_dagster_home
from pipelines.run.build import run_build
from pipelines.run.summary import BuildResult, summarise
from pipelines.run.summary import finish as finish_run
from pipelines.settings import Settings, get_settings
from pipelines.warehouse.failures import (
    OsFault,
    StepError,
    explain_exception,
    explain_os_fault,
    failure_reason,
    os_fault,
    record_failure,
)
from pipelines.warehouse.publish import prepare_build, publish, writer_lock
from pipelines.warehouse.schema import ensure_schema

RUN = "feedbeef-0000-4000-8000-000000000001"
OVERFLOW = "99999999999999.9999"  # the largest DECIMAL(18,4): valid under the contract


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "landing").mkdir()
    return get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")


def runs(settings: Settings) -> list[dict]:
    path = settings.warehouse_dir / "logs" / "runs.jsonl"
    return [json.loads(ln) for ln in path.read_text().splitlines()] if path.exists() else []


def why_lines(lines: list[str]) -> list[str]:
    return [ln for ln in lines if ln.strip().startswith("why:")]


# --- wording -----------------------------------------------------------------------------------


B = "/wh/builds/b.duckdb"


@pytest.mark.parametrize(
    ("text", "code", "path"),
    [
        (f"OSError: [Errno 28] No space left on device: '{B}'", errno.ENOSPC, B),
        (f'Failed to commit: Could not write file "{B}": File too large', errno.EFBIG, B),
        (
            f'IO Error: Could not write file "{B}.wal": Disk quota exceeded',
            errno.EDQUOT,
            B + ".wal",
        ),
        ("PermissionError: [Errno 13] Permission denied: '/wh/builds'", errno.EACCES, "/wh/builds"),
        ("OSError: [Errno 30] Read-only file system: '/wh/logs/x'", errno.EROFS, "/wh/logs/x"),
        ("FileExistsError: [Errno 17] File exists: '/wh/builds'", errno.EEXIST, "/wh/builds"),
        # disk full wins over what it caused
        (
            "[Errno 13] Permission denied: '/a'\n[Errno 28] No space left on device",
            errno.ENOSPC,
            None,
        ),
    ],
)
def test_os_faults_are_found_in_python_and_duckdb_wording(text: str, code: int, path: str | None):
    assert os_fault(text) == OsFault(code, Path(path) if path else None)


def test_other_errors_are_no_os_fault():
    assert os_fault("Catalog Error: Table with name x already exists") is None
    assert os_fault("Out of Range Error: Overflow in multiplication of DECIMAL(18)") is None
    assert (
        os_fault("Permission Error: file system operations are disabled by configuration") is None
    )


def test_disk_full_names_the_folder_its_free_space_and_the_fix(settings: Settings):
    builds = settings.builds_dir
    builds.mkdir(parents=True)
    for code, words in (
        (errno.ENOSPC, "is full"),
        (errno.EDQUOT, "quota"),
        (errno.EFBIG, "file-size limit"),
    ):
        msg = explain_os_fault(OsFault(code, builds / "b.duckdb"), settings)
        assert words in msg and str(builds) in msg and " free" in msg, msg
        assert "SUBOPS_WAREHOUSE_DIR" in msg and "\n" not in msg


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM, errno.EROFS])
def test_a_folder_that_cannot_be_written_is_named_with_the_fix(settings: Settings, code: int):
    err = OSError(code, os.strerror(code), str(settings.builds_dir))
    msg = explain_exception(err, settings)
    assert msg == (
        f"cannot write {settings.builds_dir} ({os.strerror(code)}): make it writable by the user "
        "running subops or set SUBOPS_WAREHOUSE_DIR"
    )


def test_an_unreadable_landing_folder_is_named_with_the_fix(settings: Settings):
    where = settings.landing_dir / "crm"
    msg = explain_exception(PermissionError(13, "Permission denied", str(where)), settings)
    assert msg == (
        f"cannot read {where} in the landing folder (Permission denied): make it readable by the "
        "user running subops or set SUBOPS_LANDING_DIR"
    )


def test_dagster_run_storage_failing_is_named(settings: Settings, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(settings.warehouse_dir))
    err = StepError(
        "run", "x", "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) disk I/O error"
    )
    msg = failure_reason(settings, [err], [])
    assert msg.startswith(f"Dagster's run storage in {settings.warehouse_dir} could not be written")
    assert "DAGSTER_HOME" in msg


def test_dbt_failures_name_the_model_and_the_database_line():
    results = {
        "results": [
            {"unique_id": "test.subops.not_null_x.abc", "status": "skipped", "message": None},
            {
                "unique_id": "model.subops.int_invoice_settlements_unioned",
                "status": "error",
                "message": "Runtime Error in model int_invoice_settlements_unioned "
                "(models/intermediate/x.sql)\n  Out of Range Error: Overflow in multiplication "
                "of DECIMAL(18) (999999999999999999 * 10000).",
            },
            {
                "unique_id": "model.subops.billing_leakage_monthly",
                "status": "error",
                "message": "x",
            },
        ]
    }
    assert dbt_failure_message(results) == (
        "dbt model int_invoice_settlements_unioned failed: Out of Range Error: Overflow in "
        "multiplication of DECIMAL(18) (999999999999999999 * 10000). (+1 more) — fix the model "
        "or the extract rows behind it (dbt's output is in the log)"
    )
    tests = {"results": [{"unique_id": "test.subops.unique_fct_x_id.1a", "status": "fail"}]}
    assert dbt_failure_message(tests).startswith("dbt test unique_fct_x_id.1a failed")
    crashed = (
        "The dbt CLI process with command ... Errors parsed from dbt logs:\n\n"
        "Encountered an error:\n[Errno 27] File too large"
    )
    assert dbt_failure_message(None, crashed).startswith(
        "dbt build failed: [Errno 27] File too large"
    )


def test_the_cause_comes_first(settings: Settings):
    model = StepError("subops_dbt_models", "dbt model m failed: Overflow — fix it")
    other = StepError("raw__x", "KeyError: 'x'", "KeyError: 'x'")
    disk = StepError(
        "raw__y",
        "IOException: ...",
        'IO Error: Could not write file "/wh/b": No space left on device',
    )
    checks = ["raw/references referential_rules: 5 usage rows name no subscription"]
    assert "is full" in failure_reason(settings, [model, other, disk], checks)
    assert failure_reason(settings, [other, model], checks) == model.message
    got = failure_reason(settings, [other], checks)
    assert got.startswith("1 blocking check failed: raw/references referential_rules: 5 usage")
    assert failure_reason(settings, [other], []).startswith("step raw__x failed: KeyError: 'x'")


# --- what a finished run leaves behind ----------------------------------------------------------


def make_build(settings: Settings, run_id: str = RUN) -> Path:
    import datetime as dt

    return prepare_build(settings, run_id, full_refresh=True, as_of=dt.date(2026, 1, 2))


def finish(settings: Settings, out: BuildResult) -> BuildResult:
    out.log_file = settings.warehouse_dir / "logs" / f"{out.run_id}.log"
    out.log_file.parent.mkdir(parents=True, exist_ok=True)
    out.log_file.write_text("detail\n")
    finish_run(settings, out)
    return out


def test_a_failed_build_removes_its_files_and_leaves_a_record(settings: Settings):
    path = make_build(settings)
    wal, tmp = path.with_name(path.name + ".wal"), path.with_name(path.name + ".tmp")
    wal.write_bytes(b"wal")
    tmp.mkdir()
    (tmp / "spill.block").write_bytes(b"x" * 1000)
    errors = [StepError("subops_dbt_models", "dbt model m failed: Overflow — fix the model")]
    out = finish(settings, summarise(settings, RUN, False, errors))
    assert not out.published and out.build_removed
    assert not path.exists() and not wal.exists() and not tmp.exists()
    lines = out.summary_lines()
    assert why_lines(lines) == ["  why: dbt model m failed: Overflow — fix the model"]
    assert "(removed: the build failed" in lines[1]
    (rec,) = runs(settings)
    assert rec["run_id"] == RUN and rec["status"] == "failed" and rec["build_removed"]
    assert rec["failure_reason"] == errors[0].message and rec["as_of_date"] is None
    assert {"started_at", "finished_at", "files_loaded", "rows_quarantined", "log_file"} <= set(rec)
    assert out.log_file.read_text().endswith(f"why: {errors[0].message}\n")


def test_keep_failed_builds_keeps_the_file_with_its_reason(settings: Settings):
    settings = settings.model_copy(update={"keep_failed_builds": True})
    path = make_build(settings)
    out = finish(settings, summarise(settings, RUN, False, [StepError("s", "dbt seed x failed")]))
    assert path.exists() and not out.build_removed
    with duckdb.connect(str(path), read_only=True) as con:
        got = con.execute("SELECT status, failure_reason FROM audit.runs").fetchall()
    assert got == [("failed", "dbt seed x failed")]
    assert runs(settings)[0]["build_removed"] is False


def test_a_published_build_is_recorded_and_kept(settings: Settings):
    path = make_build(settings)
    publish(settings, path, RUN)
    out = finish(settings, summarise(settings, RUN, True, []))
    assert out.published and path.exists() and not why_lines(out.summary_lines())
    (rec,) = runs(settings)
    assert rec["status"] == "published" and rec["warehouse_version"] == 1
    assert rec["failure_reason"] is None and rec["build_removed"] is False


def test_a_broken_build_file_still_gets_a_summary(settings: Settings):
    settings.builds_dir.mkdir(parents=True)
    path = settings.builds_dir / f"20260101T000000Z-{RUN[:8]}.duckdb"
    path.write_bytes(b"not a duckdb file" * 100)
    err = StepError("raw__x", "IOException", 'Could not write file "/x": No space left on device')
    out = finish(settings, summarise(settings, RUN, False, [err]))
    (why,) = why_lines(out.summary_lines())
    assert "is full" in why and not path.exists()


def test_record_failure_survives_a_conflicting_lock(settings: Settings):
    """Another process holding the build read-write: DuckDB's `Conflicting lock`."""
    settings = settings.model_copy(update={"keep_failed_builds": True})
    path = make_build(settings)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(path), read_only=True)
        reason = record_failure(settings, path, RUN, [StepError("s", "KeyError: 'x'")])
        assert reason.startswith("step s failed: KeyError")
    finally:
        holder.kill()
        holder.wait()


def cli_build(settings: Settings) -> str:
    """`subops build` in-process: the one line it fails with (main() prints it after `error:`)."""
    from pipelines.cli import SubopsError, app

    args = ["build", "--landing", str(settings.landing_dir)]
    result = CliRunner().invoke(app, [*args, "--warehouse-dir", str(settings.warehouse_dir)])
    assert isinstance(result.exception, SubopsError), result.output
    msg = str(result.exception)
    assert "\n" not in msg
    return msg


def test_the_writer_lock_is_one_line_naming_the_holder(settings: Settings):
    with writer_lock(settings):
        msg = cli_build(settings)
    assert msg.startswith(f"build not started: another build is writing {settings.warehouse_dir}")
    assert f"pid {os.getpid()}" in msg and "wait for it to finish" in msg


def test_an_unreadable_landing_folder_stops_the_build_in_one_line(settings: Settings, monkeypatch):
    folder = settings.landing_dir / "crm" / "accounts"

    def unreadable(*_args, **_kwargs):  # what listing a folder without read permission raises
        raise PermissionError(errno.EACCES, "Permission denied", str(folder))

    monkeypatch.setattr("pipelines.run.build.run_build", unreadable)
    assert cli_build(settings) == (
        f"build not started: cannot read {folder} in the landing folder (Permission denied): "
        "make it readable by the user running subops or set SUBOPS_LANDING_DIR"
    )


# --- real failures, end to end -----------------------------------------------------------------


def subops_build(settings: Settings, *, fsize: int | None = None, **env: str):
    def limit() -> None:  # runs in the child: writes past `fsize` bytes fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if fsize:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "build"],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limit,
        env={
            **os.environ,
            "COLUMNS": "250",
            "SUBOPS_LANDING_DIR": str(settings.landing_dir),
            "SUBOPS_WAREHOUSE_DIR": str(settings.warehouse_dir),
            **env,
        },
    )


def assert_one_why(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "dagster - ERROR" not in proc.stdout + proc.stderr
    assert proc.stderr.strip() == ""
    (why,) = why_lines(proc.stdout.splitlines())
    return why


@pytest.mark.slow
def test_a_dbt_model_failing_names_the_model_and_the_database_error(tmp_path: Path):
    settings = get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")
    rows = clean_rows(DAYS[0], 0)
    rows["billing.invoice_lines"][0]["amount"] = OVERFLOW
    rows["billing.invoices"][0].update(subtotal=OVERFLOW, total=OVERFLOW)
    rows["billing.payments"][0]["amount"] = OVERFLOW
    write_extract(settings.landing_dir, DAYS[0], rows)
    proc = subops_build(settings)
    why = assert_one_why(proc)
    assert (
        "why: dbt model int_invoice_settlements_unioned failed: Out of Range Error: Overflow" in why
    )
    assert "dbt's output is in the log" in why
    (rec,) = runs(settings)
    log = Path(rec["log_file"])
    assert f"log: {log}" in proc.stdout
    detail = log.read_text()
    assert "Runtime Error in model int_invoice_settlements_unioned" in detail  # dbt's output
    assert "STEP_FAILURE" in detail  # Dagster's error lines and traces
    assert rec["status"] == "failed" and rec["build_removed"] and rec["files_loaded"] == 17
    assert list(settings.builds_dir.iterdir()) == []
    assert not settings.current_warehouse.exists()


@pytest.mark.slow
def test_a_builds_folder_that_is_a_file_is_named(settings: Settings):
    write_extract(settings.landing_dir, DAYS[0], clean_rows(DAYS[0], 0))
    settings.warehouse_dir.mkdir()
    settings.builds_dir.write_text("not a folder")
    r = run_build(settings)
    assert not r.published and r.build_file is None
    (why,) = why_lines(r.summary_lines())
    assert why == (
        f"  why: cannot write the folder {settings.builds_dir}: it is a file, not a folder (File "
        "exists) — make it a folder writable by the user running subops or set SUBOPS_WAREHOUSE_DIR"
    )
    assert runs(settings)[0]["failure_reason"] == r.failure_reason
    assert "FileExistsError" in Path(runs(settings)[0]["log_file"]).read_text()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_a_full_disk_is_named_and_the_failed_build_removed(tmp_path: Path):
    """`subops build` with a file-size limit of 2 MB: copying the 4 MB published warehouse into
    the new build file fails with EFBIG, as it would on a full disk."""
    settings = get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")
    write_extract(settings.landing_dir, DAYS[0], clean_rows(DAYS[0], 0))
    old = settings.builds_dir / "20250101T000000Z-deadbeef.duckdb"
    old.parent.mkdir(parents=True)
    with duckdb.connect(str(old)) as con:
        ensure_schema(con)
        con.execute("CREATE TABLE filler AS SELECT md5(range::VARCHAR) AS h FROM range(200000)")
    assert old.stat().st_size > 3_000_000
    settings.current_warehouse.symlink_to(os.path.relpath(old, settings.warehouse_dir))
    before = sha(old)
    home = ensure_dagster_home(tmp_path / "dagster_home")  # its own: the session's has grown
    t0 = time.perf_counter()
    proc = subops_build(settings, fsize=2_000_000, DAGSTER_HOME=str(home))
    why = assert_one_why(proc)
    assert f"a file in {settings.builds_dir} hit the file-size limit" in why
    assert " free on its disk" in why and "SUBOPS_WAREHOUSE_DIR" in why
    assert settings.current_warehouse.resolve() == old.resolve() and sha(old) == before
    assert sorted(p.name for p in settings.builds_dir.iterdir()) == [old.name]
    (rec,) = runs(settings)
    assert (
        rec["status"] == "failed"
        and rec["build_removed"]
        and "file-size limit" in rec["failure_reason"]
    )
    assert time.perf_counter() - t0 < 120
    assert "[Errno 27] File too large" in Path(rec["log_file"]).read_text()  # the detail
