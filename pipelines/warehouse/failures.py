"""Why a build failed, in one line that names the cause and the fix; the detail stays in the
run's log. Also what a finished run leaves behind: one JSON line in `logs/runs.jsonl`, and no
files of a failed build (unless `keep_failed_builds`).

Causes are found in error *texts*: a step's exception reaches the summary serialised by Dagster,
DuckDB reports OS errors in its own words, dbt's in run_results.json.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import Settings
from pipelines.warehouse.publish import record_run
from pipelines.warehouse.readonly import connect_readonly

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
NOT_WRITABLE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
NOT_A_FOLDER = frozenset({errno.ENOTDIR, errno.EEXIST})
_KNOWN = DISK_FULL | NOT_WRITABLE | NOT_A_FOLDER
#: How DuckDB, sqlite and others spell these errors (they rarely give the errno).
_WORDS = {os.strerror(e).lower(): e for e in _KNOWN} | {
    "database or disk is full": errno.ENOSPC,  # sqlite (Dagster's run storage)
    "out of disk space": errno.ENOSPC,
    "disk quota exceeded": errno.EDQUOT,
}
_PY_OSERROR = re.compile(r"\[Errno (\d+)\] [^:\n]*(?:: '([^'\n]*)')?")
_QUOTED_PATH = re.compile(r"[\"'](/[^\"'\n]+)[\"']")
RUNS_LOG = "runs.jsonl"


@dataclass(frozen=True)
class StepError:
    """A failed step: `message` is its one line, `detail` every line of the error chain."""

    step: str
    message: str
    detail: str = ""


@dataclass(frozen=True)
class OsFault:
    errno: int
    path: Path | None


def os_fault(text: str) -> OsFault | None:
    """The disk-full or permission error named in an error text, if any (disk full first: it
    also makes later steps fail in other ways)."""
    found: list[OsFault] = []
    for m in _PY_OSERROR.finditer(text):
        code = int(m.group(1))
        if code in _KNOWN:
            found.append(OsFault(code, Path(m.group(2)) if m.group(2) else None))
    for line in text.splitlines():
        low = line.lower()
        for words, code in _WORDS.items():
            if words in low:
                path = _QUOTED_PATH.search(line)
                found.append(OsFault(code, Path(path.group(1)) if path else None))
    if not found:
        return None
    found.sort(key=lambda f: (f.errno not in DISK_FULL, f.errno not in NOT_WRITABLE))
    return found[0]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def _existing_folder(path: Path) -> Path:
    for p in (path, *path.parents):
        if p.is_dir():
            return p
    return Path("/")


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"  # pragma: no cover


def free_space(path: Path) -> str:
    try:
        return human_bytes(shutil.disk_usage(_existing_folder(path)).free) + " free"
    except OSError:
        return "free space unknown"


def explain_os_fault(fault: OsFault, settings: Settings) -> str:
    """One line: what could not be read or written, where, and what to do about it."""
    path = fault.path
    code = fault.errno
    reason = os.strerror(code)
    if path is not None and _inside(path, settings.landing_dir) and code not in DISK_FULL:
        return (
            f"cannot read {path} in the landing folder ({reason}): make it readable by the user "
            "running subops or set SUBOPS_LANDING_DIR"
        )
    if code in DISK_FULL:
        folder = _existing_folder(path.parent if path else settings.warehouse_dir)
        free = free_space(folder)
        in_warehouse = _inside(folder, settings.warehouse_dir)
        move = " or set SUBOPS_WAREHOUSE_DIR to a folder on a bigger disk" if in_warehouse else ""
        fix = f"free space there (old builds are in {settings.builds_dir}){move}"
        if code == errno.EFBIG:
            return (
                f"a file in {folder} hit the file-size limit (ulimit -f, or the file system's "
                f"maximum; {free} on its disk): raise the limit for the user running subops"
                + (
                    " or set SUBOPS_WAREHOUSE_DIR to a folder on another file system"
                    if move
                    else ""
                )
            )
        if code == errno.EDQUOT:
            return f"the disk quota for {folder} is used up ({free} on its disk): {fix}"
        return f"the disk holding {folder} is full ({free}): {fix}"
    where = path or settings.warehouse_dir
    if code in NOT_A_FOLDER:  # the first part of the path that is a file, not a folder
        where = next((p for p in (where, *where.parents) if p.exists() and not p.is_dir()), where)
    env = "SUBOPS_WAREHOUSE_DIR" if _inside(where, settings.warehouse_dir) else None
    env_fix = f" or set {env}" if env else ""
    if code in NOT_A_FOLDER:
        return (
            f"cannot write the folder {where}: it is a file, not a folder ({reason}) — make it a "
            f"folder writable by the user running subops{env_fix}"
        )
    return f"cannot write {where} ({reason}): make it writable by the user running subops{env_fix}"


def run_storage_fault(text: str) -> str | None:
    """Dagster's run storage (sqlite under DAGSTER_HOME) failing to write: a full disk or a
    file-size limit there shows only as sqlite's `disk I/O error`/`database or disk is full`."""
    if "sqlite3.OperationalError" not in text:
        return None
    low = text.lower()
    if not any(w in low for w in ("disk i/o error", "disk is full", "readonly database")):
        return None
    home = Path(os.environ.get("DAGSTER_HOME") or Path.home() / ".dagster")
    return (
        f"Dagster's run storage in {home} could not be written (sqlite: "
        f"{'read-only' if 'readonly' in low else 'disk full or I/O error'}; {free_space(home)}): "
        "free space on that disk, make it writable by the user running subops, or set "
        "DAGSTER_HOME to a folder that is"
    )


#: How DuckDB reports a query that needs more memory than its limit and cannot spill.
_OUT_OF_MEMORY = "out of memory error"


def out_of_memory(settings: Settings, step: str) -> str:
    """A build's DuckDB ran out of its memory limit: most work spills to disk past it, the rest
    (some joins and windows over very large keys) needs more memory."""
    where = settings.build_temp_dir or f"{settings.builds_dir}/<build>.duckdb.tmp"
    return (
        f"step {step} needed more memory than SUBOPS_BUILD_MEMORY_LIMIT "
        f"({settings.build_memory_limit}) allows, even spilling to {where}: raise "
        "SUBOPS_BUILD_MEMORY_LIMIT (or lower SUBOPS_BUILD_THREADS) — DuckDB's message is in the log"
    )


def explain_exception(exc: BaseException, settings: Settings) -> str:
    """One line for an exception raised outside the Dagster run (lock, log folder, landing)."""
    text = "".join(traceback.format_exception_only(type(exc), exc))
    chained = exc.__cause__ or exc.__context__
    if chained is not None:
        text += "".join(traceback.format_exception_only(type(chained), chained))
    if isinstance(exc, OSError) and exc.errno in _KNOWN:
        fault = OsFault(exc.errno, Path(exc.filename) if exc.filename else None)
        return explain_os_fault(fault, settings)
    fault = os_fault(text)
    if fault:
        return explain_os_fault(fault, settings)
    return _first_line(str(exc)) or type(exc).__name__


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def step_errors(events: Iterable[Any]) -> list[StepError]:
    """The failed steps of a Dagster run: a `dg.Failure`'s description, else the innermost
    exception of the chain (the user's, not Dagster's wrapper)."""
    out: list[StepError] = []
    for ev in events:
        if not ev.is_step_failure:
            continue
        data = ev.event_specific_data
        chain, err = [], getattr(data, "error", None)
        while err is not None and len(chain) < 10:
            chain.append(err)
            err = err.cause or err.context
        detail = "\n".join(e.message for e in chain)
        user = getattr(data, "user_failure_data", None)
        if user is not None and user.description:
            message = user.description
        elif chain:
            message = _first_line(chain[-1].message)
        else:
            message = "failed"
        out.append(StepError(ev.step_key or "?", message[:500], f"{message}\n{detail}"))
    return out


def run_error(exc: BaseException) -> StepError:
    """The Dagster run itself broke (not a step): e.g. its run storage hit a full disk."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return StepError("run", _first_line(str(exc)) or type(exc).__name__, "".join(lines))


def is_model_error(message: str) -> bool:
    """dbt's own one line for a broken model, seed, snapshot or run (see
    pipelines/defs/dbt/assets.py); failed dbt tests are reported as blocking checks."""
    return message.startswith("dbt ") and not message.startswith("dbt test ")


def failure_reason(settings: Settings, errors: list[StepError], failed_checks: list[str]) -> str:
    """The one cause of a failed run, with the fix: a full disk or a folder that cannot be
    written first (every later error follows from it), then a dbt model that broke, then the
    blocking checks that failed, then any other failed step."""
    for e in errors:
        fault = os_fault(e.detail or e.message)
        if fault:
            return explain_os_fault(fault, settings)
    for e in errors:
        storage = run_storage_fault(e.detail or e.message)
        if storage:
            return storage
    for e in errors:
        if _OUT_OF_MEMORY in (e.detail or e.message).lower():
            return out_of_memory(settings, e.step)
    for e in errors:
        if is_model_error(e.message):
            return e.message
    if failed_checks:
        more = f" (+{len(failed_checks) - 1} more)" if len(failed_checks) > 1 else ""
        n = len(failed_checks)
        return (
            f"{n} blocking check{'s' if n > 1 else ''} failed: {failed_checks[0][:500]}{more} — "
            f"fix the extracts {'they name' if n > 1 else 'it names'} and build again "
            "(SUBOPS_KEEP_FAILED_BUILDS=true keeps the build and its audit tables to inspect)"
        )
    for e in errors:
        return f"step {e.step} failed: {e.message[:300]} — the trace is in the log"
    return "the run stopped before publication — see the log"


def record_failure(settings: Settings, path: Path, run_id: str, errors: list[StepError]) -> str:
    """The one-line reason a build was not published (see `failure_reason`); written into the
    build's own audit.runs when the build is kept. Never raises: the build file may be broken,
    locked or on a full disk, and the reason must still be reported."""
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


# --- what a finished run leaves behind ---------------------------------------------------------


def build_files(path: Path) -> list[Path]:
    """A build's own files: the database, its WAL and DuckDB's temp folder next to it."""
    return [path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".tmp")]


def remove_build_files(path: Path, settings: Settings) -> bool:
    """Remove a failed build's files (never the published one). True if none is left."""
    current = settings.current_warehouse
    with contextlib.suppress(OSError):
        if current.exists() and current.resolve() == path.resolve():
            return False
    for f in build_files(path):
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, OSError):
            if f.is_dir() and not f.is_symlink():
                shutil.rmtree(f)
            else:
                f.unlink()
    return not any(f.exists() for f in build_files(path))


def append_run_record(settings: Settings, record: Mapping[str, Any]) -> bool:
    """Append one JSON line to `<warehouse>/logs/runs.jsonl` (read by `subops runs`). False if
    it could not be written (a full disk): the run's outcome must still be reported."""
    path = settings.warehouse_dir / "logs" / RUNS_LOG
    line = json.dumps(dict(record), default=str, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
    except OSError:
        return False
    return True


def append_to_log(log: Path | None, lines: Iterable[str]) -> None:
    if log is None:
        return
    with contextlib.suppress(OSError), log.open("a", encoding="utf-8") as fh:
        fh.writelines(f"{ln}\n" for ln in lines)
