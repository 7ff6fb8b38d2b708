"""`run_build`: the CLI's entry point. Runs the Dagster job `nightly_build` in-process (no
daemon) and summarises what happened; the job itself builds, checks and publishes."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import duckdb

from pipelines.contract.model import LANDING_REJECT_REASONS
from pipelines.ingest.landing import LandingFile, LandingScan, horizon, scan_landing
from pipelines.settings import Settings
from pipelines.warehouse.failures import (
    StepError,
    append_run_record,
    append_to_log,
    failure_reason,
    remove_build_files,
    run_error,
    step_errors,
)
from pipelines.warehouse.publish import (
    find_build,
    record_run,
    remove_orphan_builds,
    utcnow,
    writer_lock,
)
from pipelines.warehouse.readonly import connect_readonly


@dataclass
class BuildResult:
    """What a build did; `summary_lines()` is what the CLI prints."""

    published: bool
    up_to_date: bool = False  # nothing new to load: nothing built, current stays as it is
    run_id: str | None = None
    build_file: Path | None = None
    current: Path | None = None
    warehouse_version: int | None = None
    as_of_date: dt.date | None = None
    full_refresh: bool = False
    files_loaded: int = 0
    files_rejected: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    top_quarantine_reasons: list[tuple[str, int]] = field(default_factory=list)
    reference_breaches: int = 0
    rows_superseded: int = 0  # valid rows that lost to a newer version of their key
    refused_files: list[str] = field(default_factory=list)  # landing refusals, one reason each
    checks_passed: int = 0
    checks_failed: int = 0
    checks_not_run: int = 0  # counted in checks_failed: dbt tests skipped after an upstream error
    failed_checks: list[str] = field(default_factory=list)
    failure_reason: str | None = None
    seconds: float = 0.0
    log_file: Path | None = None  # the run's log: dbt's output, Dagster's errors and traces
    build_removed: bool = False  # a failed build's files are removed unless keep_failed_builds

    def summary_lines(self) -> list[str]:
        if self.up_to_date:
            return [f"Up to date: {self.failure_reason}"]
        head = (
            f"Published warehouse v{self.warehouse_version} (as of {self.as_of_date})"
            if self.published
            else "Build NOT published — the previous warehouse stays current"
        )
        removed = " (removed: the build failed; SUBOPS_KEEP_FAILED_BUILDS=true keeps it)"
        lines = [
            head,
            f"  build file: {self.build_file or 'none'}{removed if self.build_removed else ''}",
            f"  files loaded: {self.files_loaded} ({self.files_rejected} rejected whole)",
            f"  rows loaded: {self.rows_loaded:,}   rows quarantined: {self.rows_quarantined:,}",
        ]
        if self.top_quarantine_reasons:
            lines.append(
                "  top quarantine reasons: "
                + ", ".join(f"{code} {n}" for code, n in self.top_quarantine_reasons)
            )
        if self.rows_superseded:
            lines.append(
                f"  rows superseded by newer versions of their key: {self.rows_superseded:,}"
            )
        if self.refused_files:
            lines.append(
                f"  files refused under the landing folder: {len(self.refused_files)} "
                "(see quarantine.files)"
            )
            lines += [f"    {r}" for r in self.refused_files[:10]]
        lines.append(f"  reference breaches reported: {self.reference_breaches}")
        not_run = (
            f" ({self.checks_not_run} not run: upstream failed)" if self.checks_not_run else ""
        )
        lines.append(
            f"  checks passed: {self.checks_passed}   failed: {self.checks_failed}{not_run}"
        )
        if self.failed_checks:
            lines.append("  failed checks: " + "; ".join(self.failed_checks[:10]))
        if self.failure_reason:
            lines.append(f"  why: {' '.join(self.failure_reason.split())}")
        if self.log_file:
            lines.append(f"  log: {self.log_file}")
        lines.append(f"  took {self.seconds:.1f} s")
        return lines


def landing_scan(settings: Settings, as_of: dt.date | None = None) -> LandingScan:
    """The landing folder as a build sees it (extracts dated after the horizon are refused)."""
    tolerance = settings.extract_future_tolerance_days
    today = horizon(dt.datetime.now(dt.UTC).date(), as_of, tolerance)
    return scan_landing(settings.landing_dir, today=today, tolerance_days=tolerance)


def pending_files(
    settings: Settings, scan: LandingScan | None = None
) -> list[tuple[LandingFile, str]]:
    """Accepted landing files (with sha256) the published warehouse has not loaded as they are."""
    scan = scan or landing_scan(settings)
    done: set[tuple[str, str]] = set()
    if settings.current_warehouse.exists():
        with (
            contextlib.closing(connect_readonly(settings.current_warehouse)) as con,
            contextlib.suppress(duckdb.Error),
        ):
            done = set(
                con.execute(
                    "SELECT file, sha256 FROM audit.load_log WHERE status <> 'superseded'"
                ).fetchall()
            )
    out = []
    for f in scan.files:
        sha = f.sha256()
        if (f.rel, sha) not in done:
            out.append((f, sha))
    return out


def refusals_changed(settings: Settings, scan: LandingScan) -> bool:
    """Whether the files refused under the landing folder differ from those the published
    warehouse reports (a new misplaced file needs a build that records it)."""
    known: set[tuple[str, str]] = set()
    with (
        contextlib.closing(connect_readonly(settings.current_warehouse)) as con,
        contextlib.suppress(duckdb.Error),
    ):
        known = set(
            con.execute(
                "SELECT file, reason_code FROM quarantine.files "
                "WHERE list_contains($codes, reason_code)",
                {"codes": sorted(LANDING_REJECT_REASONS)},
            ).fetchall()
        )
    return known != {(r.rel, r.code) for r in scan.refused}


def _published_as_of(settings: Settings) -> dt.date | None:
    with (
        contextlib.closing(connect_readonly(settings.current_warehouse)) as con,
        contextlib.suppress(duckdb.Error),
    ):
        rows = con.execute(
            "SELECT as_of_date FROM audit.runs WHERE status = 'published' "
            "ORDER BY warehouse_version DESC LIMIT 1"
        ).fetchall()
        return rows[0][0] if rows else None
    return None


def _log_path(settings: Settings, run_id: str, keep: int = 20) -> Path:
    """`<warehouse>/logs/<run id>.log`; the oldest logs beyond `keep` are removed."""
    logs = settings.warehouse_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    old = sorted(logs.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for p in old[: max(len(old) - keep + 1, 0)]:
        p.unlink(missing_ok=True)
    return logs / f"{run_id}.log"


def _instance():  # -> dg.DagsterInstance
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        from pipelines.defs.instance import ensure_dagster_home

        ensure_dagster_home(Path(os.environ["DAGSTER_HOME"]))
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_build(
    settings: Settings,
    *,
    full_refresh: bool = False,
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    on_step: Callable[[int, int, str], None] | None = None,
) -> BuildResult:
    """Build the warehouse from the landing folder and publish it if every check passes.

    Incremental by default (loads only files not yet in the published audit.load_log; when there
    are none and the as-of date is unchanged, nothing is built). `full_refresh` starts from an
    empty file and loads every landing file. As-of defaults to the latest extract date.
    `progress` gets a sentence per phase; `on_step(done, total, step)` drives a progress bar.
    """
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    if not Path(settings.landing_dir).is_dir():
        raise FileNotFoundError(
            f"the landing folder {settings.landing_dir} does not exist or cannot be read: "
            "set SUBOPS_LANDING_DIR or pass --landing"
        )
    scan = landing_scan(settings, as_of or settings.as_of_date)
    as_of = as_of or settings.as_of_date or scan.latest_extract_date()
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    with writer_lock(settings):
        remove_orphan_builds(settings)  # a killed build's file must not fill the disk
        if not full_refresh and settings.current_warehouse.exists():
            say("Looking for new extract files …")
            pending = pending_files(settings, scan)
            if (
                not pending
                and not refusals_changed(settings, scan)
                and _published_as_of(settings) == as_of
            ):
                refused = (
                    f"; {len(scan.refused)} file(s) under the landing folder are still refused "
                    "(see quarantine.files)"
                    if scan.refused
                    else ""
                )
                return BuildResult(
                    published=False,
                    up_to_date=True,
                    as_of_date=as_of,
                    current=settings.current_warehouse,
                    failure_reason="no new extract files since the published build; "
                    f"current.duckdb is unchanged{refused}",
                    seconds=time.perf_counter() - t0,
                )
        say("Preparing the Dagster job (dbt manifest) …")
        from dagster._core.utils import make_new_run_id

        from pipelines.definitions import build_definitions
        from pipelines.defs.schedules import NIGHTLY_JOB

        defs = build_definitions(settings)
        job = defs.resolve_job_def(NIGHTLY_JOB)
        say("Loading, checking, building and publishing …")
        instance = _instance()
        run_id = make_new_run_id()
        log_path = _log_path(settings, run_id)
        with (
            _open_log(log_path) as log,
            contextlib.redirect_stdout(log),  # dagster-dbt echoes dbt's log lines to stdout
            contextlib.redirect_stderr(log),  # Dagster's error lines and traces: detail, not news
            _step_progress(instance, run_id, say, on_step, len(job.graph.nodes)),
        ):
            try:
                res = job.execute_in_process(
                    run_id=run_id,
                    run_config={
                        "loggers": {"console": {"config": {"log_level": "ERROR"}}},
                        "ops": {
                            "warehouse__build": {
                                "config": {
                                    "full_refresh": full_refresh,
                                    "as_of_date": as_of.isoformat(),
                                }
                            }
                        },
                    },
                    instance=instance,
                    raise_on_error=False,
                )
                success, errors = res.success, _step_errors(res)
            except Exception as exc:  # the run itself broke, e.g. its storage hit a full disk
                with contextlib.suppress(OSError):
                    traceback.print_exc(file=log)
                success, errors = False, [run_error(exc)]
        out = _summarise(settings, run_id, success, errors)
        out.log_file = log_path
        out.as_of_date, out.full_refresh = as_of, full_refresh
        out.seconds = time.perf_counter() - t0
        _finish(settings, out)
    return out


@contextlib.contextmanager
def _open_log(path: Path) -> Iterator[TextIO]:
    """The run's log, line-buffered; closing it on a full disk must not hide the run's outcome."""
    fh = path.open("w", buffering=1, encoding="utf-8")
    try:
        yield fh
    finally:
        with contextlib.suppress(OSError):
            fh.close()


@contextlib.contextmanager
def _step_progress(
    instance,
    run_id: str,
    say: Callable[[str], None],
    on_step: Callable[[int, int, str], None] | None,
    total: int,
) -> Iterator[None]:
    """Forward step starts of the run to the progress callback (a poller thread reading the
    run's event log: the job runs in this thread, with console logging at WARNING)."""
    from dagster import DagsterEventType

    stop = threading.Event()

    def poll() -> None:
        seen: set[str] = set()
        while not stop.wait(0.5):
            with contextlib.suppress(Exception):
                for rec in instance.all_logs(run_id, of_type=DagsterEventType.STEP_START):
                    step = rec.step_key or ""
                    if step and step not in seen:
                        seen.add(step)
                        say(f"Running {step} …")
                        if on_step:
                            on_step(len(seen), total, step)

    thread = threading.Thread(target=poll, name="subops-build-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _step_errors(res) -> list[StepError]:
    return step_errors(res.all_events)


def record_failure(settings: Settings, path: Path, run_id: str, errors: list[StepError]) -> str:
    """The one-line reason a build was not published (see `failure_reason`); written into the
    build's own audit.runs when the build is kept. Never raises: the build file may be broken,
    locked or on a full disk, and the summary must still be printed."""
    failed: list[str] = []
    with (
        contextlib.suppress(duckdb.Error, OSError),
        contextlib.closing(connect_readonly(path)) as con,
    ):
        failed = [
            r[0]
            for r in con.execute(
                """SELECT asset || ' ' || check_name || ': ' || description
                   FROM audit.check_results WHERE run_id = $r AND blocking AND NOT passed
                   ORDER BY checked_at, asset, check_name""",
                {"r": run_id},
            ).fetchall()
        ]
    reason = failure_reason(settings, errors, failed)
    if settings.keep_failed_builds:
        with contextlib.suppress(Exception):
            record_run(path, run_id=run_id, status="failed", failure_reason=reason[:4000])
    return reason


def _summarise(
    settings: Settings, run_id: str, success: bool, errors: list[StepError]
) -> BuildResult:
    """What the run did, read from its build file; every read may fail (a broken or missing
    build file) without hiding why the run failed."""
    out = BuildResult(published=False, run_id=run_id, current=settings.current_warehouse)
    try:
        path: Path | None = find_build(settings, run_id)
    except OSError:  # never created, or the builds folder is not a folder
        path = None
    out.build_file = path
    with contextlib.suppress(OSError):
        out.published = bool(
            path
            and success
            and settings.current_warehouse.exists()
            and settings.current_warehouse.resolve() == path.resolve()
        )
    if path is not None:
        with contextlib.suppress(duckdb.Error, OSError):
            _read_counts(out, path, run_id)
    if not out.published:
        out.failure_reason = (
            record_failure(settings, path, run_id, errors)
            if path is not None
            else failure_reason(settings, errors, [])
        )
    return out


#: How pipelines/defs/dbt/assets.py records a dbt test that did not run (an upstream failed).
SKIPPED = "dbt test skipped"


def _read_counts(out: BuildResult, path: Path, run_id: str) -> None:
    with contextlib.closing(connect_readonly(path)) as con:
        p = {"r": run_id}
        runs = con.execute(
            "SELECT warehouse_version FROM audit.runs WHERE run_id = $r AND status = 'published'",
            p,
        ).fetchall()
        if runs:
            out.warehouse_version = runs[0][0]
        out.checks_passed, out.checks_failed, out.checks_not_run = con.execute(
            f"""SELECT count(*) FILTER (WHERE passed), count(*) FILTER (WHERE NOT passed),
                      count(*) FILTER (WHERE NOT passed AND description = '{SKIPPED}')
               FROM audit.check_results WHERE run_id = $r""",
            p,
        ).fetchall()[0]
        loads = con.execute(
            """SELECT count(*), count(*) FILTER (WHERE status = 'rejected'),
                      coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0)
               FROM audit.load_log WHERE run_id = $r""",
            p,
        ).fetchall()[0]
        out.files_loaded, out.files_rejected, out.rows_loaded, out.rows_quarantined = loads
        out.top_quarantine_reasons = [
            (code, n)
            for code, n in con.execute(
                """SELECT reason_code, count(*) FROM (
                       SELECT reason_code FROM quarantine.rows WHERE run_id = $r
                       UNION ALL SELECT reason_code FROM quarantine.files WHERE run_id = $r)
                   GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5""",
                p,
            ).fetchall()
        ]
        _landing_summary(con, out, run_id)
        out.reference_breaches = con.execute(
            "SELECT count(*) FROM audit.reference_breaches"
        ).fetchall()[0][0]
        out.failed_checks = [
            r[0]
            for r in con.execute(
                "SELECT asset || ' ' || check_name FROM audit.check_results "
                f"WHERE run_id = $r AND NOT passed AND description <> '{SKIPPED}' "
                "ORDER BY NOT blocking, 1",
                p,
            ).fetchall()
        ]
    return out


def _landing_summary(con: duckdb.DuckDBPyConnection, out: BuildResult, run_id: str) -> None:
    """Superseded rows of this run and the files refused under the landing folder."""
    with contextlib.suppress(duckdb.Error):  # a warehouse from before rows_superseded
        out.rows_superseded = con.execute(
            "SELECT coalesce(sum(rows_superseded), 0) FROM audit.load_log WHERE run_id = $r",
            {"r": run_id},
        ).fetchall()[0][0]
    out.refused_files = [
        r[0]
        for r in con.execute(
            "SELECT reason FROM quarantine.files WHERE list_contains($codes, reason_code) "
            "ORDER BY file",
            {"codes": sorted(LANDING_REJECT_REASONS)},
        ).fetchall()
    ]


def run_record(out: BuildResult) -> dict[str, object]:
    """The run as one line of `logs/runs.jsonl`."""
    finished = utcnow()
    return {
        "run_id": out.run_id,
        "started_at": (finished - dt.timedelta(seconds=out.seconds)).isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "status": "published" if out.published else "failed",
        "warehouse_version": out.warehouse_version,
        "as_of_date": out.as_of_date,
        "full_refresh": out.full_refresh,
        "files_loaded": out.files_loaded,
        "files_rejected": out.files_rejected,
        "rows_loaded": out.rows_loaded,
        "rows_quarantined": out.rows_quarantined,
        "checks_passed": out.checks_passed,
        "checks_failed": out.checks_failed,
        "failure_reason": out.failure_reason,
        "build_file": out.build_file.name if out.build_file else None,
        "build_removed": out.build_removed,
        "log_file": out.log_file,
    }


def _finish(settings: Settings, out: BuildResult) -> None:
    """After a run: its record in runs.jsonl, its reason at the end of its log, and a failed
    build's files removed (a full disk stays full otherwise). Each part may fail alone."""
    remove = not out.published and out.build_file is not None and not settings.keep_failed_builds
    out.build_removed = remove  # the record says what happens next
    written = append_run_record(settings, run_record(out))
    if remove and out.build_file is not None:
        out.build_removed = remove_build_files(out.build_file, settings)
        if not written:  # the disk was full: there is room again now
            append_run_record(settings, run_record(out))
    if out.failure_reason:
        append_to_log(out.log_file, [f"why: {out.failure_reason}"])
