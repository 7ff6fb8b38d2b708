"""Run history for operators (`subops runs`), and what a daemon-run build leaves behind.

Every finished build is one line of `<warehouse>/logs/runs.jsonl` (in-process builds:
`pipelines.run.summary.finish`; daemon runs: `record_daemon_run`, called by the run-status
sensors). That file is the index: failed builds' files are removed by default, so it is the
only record of most failures. Where a build file still exists (the published one, the kept
ones) its `audit.runs` row is read instead, and the published warehouse's `audit.runs` adds
the builds published before runs.jsonl existed or in another folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import Settings
from pipelines.warehouse.failures import RUNS_LOG, append_run_record, remove_build_files
from pipelines.warehouse.readonly import connect_readonly

_AUDIT_COLUMNS = (
    "run_id",
    "started_at",
    "finished_at",
    "status",
    "warehouse_version",
    "as_of_date",
    "checks_passed",
    "checks_failed",
    "files_loaded",
    "rows_loaded",
    "rows_quarantined",
    "full_refresh",
    "build_file",
    "failure_reason",
)


def _iso(value: object) -> str | None:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else str(value)
    return None if value is None else str(value)


def _build_counts(path: Path, run_id: str) -> dict[str, Any]:
    """This run's loads, checks, as-of date and version, read from its build file."""
    with contextlib.closing(connect_readonly(path)) as con:
        p = {"r": run_id}
        files, rejected, loaded, quarantined = con.execute(
            """SELECT count(*), count(*) FILTER (WHERE status = 'rejected'),
                      coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0)
               FROM audit.load_log WHERE run_id = $r""",
            p,
        ).fetchall()[0]
        passed, failed = con.execute(
            """SELECT count(*) FILTER (WHERE passed), count(*) FILTER (WHERE NOT passed)
               FROM audit.check_results WHERE run_id = $r""",
            p,
        ).fetchall()[0]
        info = con.execute("SELECT as_of_date, full_refresh FROM audit.build_info").fetchall()
        version = con.execute(
            "SELECT warehouse_version FROM audit.runs WHERE run_id = $r AND status = 'published'",
            p,
        ).fetchall()
    return {
        "warehouse_version": version[0][0] if version else None,
        "as_of_date": info[0][0] if info else None,
        "full_refresh": info[0][1] if info else False,
        "files_loaded": files,
        "files_rejected": rejected,
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "checks_passed": passed,
        "checks_failed": failed,
    }


def record_daemon_run(
    settings: Settings,
    run_id: str,
    build: Path | None,
    *,
    published: bool,
    failure_reason: str | None,
    started_at: dt.datetime | None,
    finished_at: dt.datetime | None,
    run_url: str | None,
) -> dict[str, Any]:
    """What `finish` does for an in-process build, for a run the daemon launched: its line in
    runs.jsonl (same fields, plus the Dagster run URL) and a failed build's files removed
    unless SUBOPS_KEEP_FAILED_BUILDS. Returns the record (the alert reads it)."""
    record: dict[str, Any] = {
        "run_id": run_id,
        "started_at": _iso(started_at),
        "finished_at": _iso(finished_at),
        "status": "published" if published else "failed",
        "warehouse_version": None,
        "as_of_date": None,
        "full_refresh": False,
        "files_loaded": 0,
        "files_rejected": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "checks_passed": 0,
        "checks_failed": 0,
        "failure_reason": None if published else failure_reason,
        "build_file": build.name if build else None,
        "build_removed": False,
        "log_file": None,
        "run_url": run_url,
        "launched_by": "dagster-daemon",
    }
    if build is not None:
        with contextlib.suppress(duckdb.Error, OSError):
            record.update(_build_counts(build, run_id))
    remove = not published and build is not None and not settings.keep_failed_builds
    if remove and build is not None:
        record["build_removed"] = remove_build_files(build, settings)
    append_run_record(settings, record)
    return record


# --- subops runs ---------------------------------------------------------------------------


@dataclass
class RunRow:
    """One build as `subops runs` shows it."""

    run_id: str
    status: str
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    as_of_date: dt.date | None = None
    warehouse_version: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    failure_reason: str | None = None
    build_file: str | None = None
    source: str = "runs.jsonl"  # or audit.runs: where the numbers were read

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def outcome(self) -> str:
        if self.status == "published" and self.warehouse_version:
            return f"published v{self.warehouse_version}"
        return self.status


def _dt(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        with contextlib.suppress(ValueError):
            return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    return None


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value[:10])
    return None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _from_record(rec: dict[str, Any]) -> RunRow:
    return RunRow(
        run_id=str(rec.get("run_id")),
        status=str(rec.get("status") or "?"),
        started_at=_dt(rec.get("started_at")),
        finished_at=_dt(rec.get("finished_at")),
        as_of_date=_date(rec.get("as_of_date")),
        warehouse_version=_int(rec.get("warehouse_version")),
        rows_loaded=_int(rec.get("rows_loaded")),
        rows_quarantined=_int(rec.get("rows_quarantined")),
        failure_reason=rec.get("failure_reason"),
        build_file=rec.get("build_file"),
    )


def read_runs_log(settings: Settings) -> dict[str, RunRow]:
    """runs.jsonl by run id (a later line of the same run wins; broken lines are skipped)."""
    out: dict[str, RunRow] = {}
    path = settings.warehouse_dir / "logs" / RUNS_LOG
    with contextlib.suppress(OSError), path.open(encoding="utf-8") as fh:
        for line in fh:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                rec = json.loads(line)
                if rec.get("run_id"):
                    out[str(rec["run_id"])] = _from_record(rec)
    return out


def read_audit_runs(path: Path) -> list[RunRow]:
    """The audit.runs rows of one build file (its own run and the history it carries)."""
    rows: list[RunRow] = []
    with (
        contextlib.suppress(duckdb.Error, OSError),
        contextlib.closing(connect_readonly(path)) as con,
    ):
        cur = con.execute(f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit.runs")
        for values in cur.fetchall():
            rec = dict(zip(_AUDIT_COLUMNS, values, strict=True))
            row = _from_record(rec)
            row.source = "audit.runs"
            rows.append(row)
    return rows


def recent_runs(settings: Settings, limit: int = 20) -> list[RunRow]:
    """The latest builds, newest first: runs.jsonl as the index, each build's numbers from
    audit.runs where its build file (or the published warehouse's history) has them."""
    runs = read_runs_log(settings)
    files: list[Path] = []
    if settings.current_warehouse.exists():
        files.append(settings.current_warehouse.resolve())
    with contextlib.suppress(OSError):
        files += [
            p
            for p in sorted(settings.builds_dir.glob("*.duckdb"), reverse=True)
            if p.resolve() not in files
        ]
    for path in files:
        for row in read_audit_runs(path):
            known = runs.get(row.run_id)
            if known is not None and known.source == "audit.runs":
                continue  # the published file's row wins over an older copy of the history
            if known is not None:
                row.failure_reason = row.failure_reason or known.failure_reason
                row.build_file = row.build_file or known.build_file
            runs[row.run_id] = row
    ordered = sorted(
        runs.values(),
        key=lambda r: r.finished_at or r.started_at or dt.datetime.min,
        reverse=True,
    )
    return ordered[:limit]
