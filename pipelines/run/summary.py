"""What a build did, read back from its build file: `BuildResult` and its summary lines, and
the run's record in `logs/runs.jsonl`."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.contract.model import LANDING_REJECT_REASONS
from pipelines.service.alerts import build_finished
from pipelines.settings import Settings
from pipelines.warehouse.audit import DBT_TEST_SKIPPED
from pipelines.warehouse.failures import (
    StepError,
    append_run_record,
    append_to_log,
    failure_reason,
    record_failure,
    remove_build_files,
)
from pipelines.warehouse.publish import find_build, utcnow
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


def summarise(
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


def _read_counts(out: BuildResult, path: Path, run_id: str) -> None:
    with contextlib.closing(connect_readonly(path)) as con:
        p = {"r": run_id, "skipped": DBT_TEST_SKIPPED}
        runs = con.execute(
            "SELECT warehouse_version FROM audit.runs WHERE run_id = $r AND status = 'published'",
            {"r": run_id},
        ).fetchall()
        if runs:
            out.warehouse_version = runs[0][0]
        out.checks_passed, out.checks_failed, out.checks_not_run = con.execute(
            """SELECT count(*) FILTER (WHERE passed), count(*) FILTER (WHERE NOT passed),
                      count(*) FILTER (WHERE NOT passed AND description = $skipped)
               FROM audit.check_results WHERE run_id = $r""",
            p,
        ).fetchall()[0]
        loads = con.execute(
            """SELECT count(*), count(*) FILTER (WHERE status = 'rejected'),
                      coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0)
               FROM audit.load_log WHERE run_id = $r""",
            {"r": run_id},
        ).fetchall()[0]
        out.files_loaded, out.files_rejected, out.rows_loaded, out.rows_quarantined = loads
        out.top_quarantine_reasons = [
            (code, n)
            for code, n in con.execute(
                """SELECT reason_code, count(*) FROM (
                       SELECT reason_code FROM quarantine.rows WHERE run_id = $r
                       UNION ALL SELECT reason_code FROM quarantine.files WHERE run_id = $r)
                   GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5""",
                {"r": run_id},
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
                "WHERE run_id = $r AND NOT passed AND description <> $skipped "
                "ORDER BY NOT blocking, 1",
                p,
            ).fetchall()
        ]


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


def finish(settings: Settings, out: BuildResult) -> None:
    """After a run: its record in runs.jsonl, its reason at the end of its log, a failed
    build's files removed (a full disk stays full otherwise), and the alert it deserves (see
    pipelines.service.alerts). Each part may fail alone."""
    remove = not out.published and out.build_file is not None and not settings.keep_failed_builds
    out.build_removed = remove  # the record says what happens next
    record = run_record(out)
    written = append_run_record(settings, record)
    if remove and out.build_file is not None:
        out.build_removed = remove_build_files(out.build_file, settings)
        if not written:  # the disk was full: there is room again now
            record = run_record(out)
            append_run_record(settings, record)
    if out.failure_reason:
        append_to_log(out.log_file, [f"why: {out.failure_reason}"])
    build_finished(settings, record)  # the alert (failure, quarantine, recovery); never raises
