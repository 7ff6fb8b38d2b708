"""Write-audit-publish: build files, atomic publication of `current.duckdb`, pruning.

Every run writes its own file `builds/<timestamp>-<run>.duckdb`; readers only ever open the
published file, which is never written again. Publication swaps the `current.duckdb` symlink
with `os.replace` (atomic on POSIX): open readers keep their snapshot, new readers see the
new build, a failed build leaves `current` untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.settings import Settings, get_settings
from pipelines.warehouse.schema import ensure_schema

RUN_TAG_LEN = 8


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def connect_build(path: Path, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """Read-write connection to a build file (only the build's own steps open it), with the
    build's bounded memory, threads and spill folder (`Settings.build_duckdb_config`). Applied
    with SET, not connect-time config, so a second connection to the same file never clashes."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        for name, value in (settings or get_settings()).build_duckdb_config(path).items():
            con.execute(f"SET {name} = $v", {"v": value})  # names from this module only
    except BaseException:
        con.close()
        raise
    return con


def build_path_for(settings: Settings, run_id: str, now: dt.datetime | None = None) -> Path:
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    return settings.builds_dir / f"{stamp}-{run_id[:RUN_TAG_LEN]}.duckdb"


def find_build(settings: Settings, run_id: str) -> Path:
    """The build file of a run (steps of one run find it by the run id in its name)."""
    found = sorted(settings.builds_dir.glob(f"*-{run_id[:RUN_TAG_LEN]}.duckdb"))
    if not found:
        raise FileNotFoundError(f"no build file for run {run_id} in {settings.builds_dir}")
    return found[-1]


def published_target(settings: Settings) -> Path | None:
    cur = settings.current_warehouse
    return cur.resolve() if cur.exists() else None


def prepare_build(
    settings: Settings,
    run_id: str,
    *,
    full_refresh: bool,
    as_of: dt.date,
    started_at: dt.datetime | None = None,
) -> Path:
    """Create this run's build file: a copy of the published warehouse (incremental) or an empty
    one (full refresh, or nothing published yet), with the bookkeeping tables and run info."""
    started_at = started_at or utcnow()
    settings.builds_dir.mkdir(parents=True, exist_ok=True)
    path = build_path_for(settings, run_id, started_at)
    if path.exists():
        raise FileExistsError(f"build file {path} already exists: a build file is never reused")
    parent = published_target(settings)
    history = None
    if parent and not full_refresh:
        shutil.copyfile(parent, path)
    elif parent:
        with (
            contextlib.closing(duckdb.connect(str(parent), read_only=True)) as old,
            contextlib.suppress(duckdb.Error),
        ):
            history = old.execute("SELECT * FROM audit.runs").df()
    con = connect_build(path, settings)
    try:
        ensure_schema(con)
        if history is not None and not history.empty:
            con.register("__history", history)
            con.execute("INSERT INTO audit.runs BY NAME SELECT * FROM __history")
            con.unregister("__history")
        con.execute("DELETE FROM audit.build_info")
        con.execute(
            "INSERT INTO audit.build_info VALUES ($run, $started, $as_of, $full, $cur, $parent)",
            {
                "run": run_id,
                "started": started_at,
                "as_of": as_of,
                "full": full_refresh,
                "cur": settings.reporting_currency,
                "parent": parent.name if parent and not full_refresh else None,
            },
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


def build_info(path: Path) -> dict[str, object]:
    with contextlib.closing(connect_build(path)) as con:
        cur = con.execute("SELECT * FROM audit.build_info")
        names = [d[0] for d in cur.description]
        row = cur.fetchall()[0]
    return dict(zip(names, row, strict=True))


def record_run(
    path: Path,
    *,
    run_id: str,
    status: str,
    failure_reason: str | None = None,
) -> dict[str, object]:
    """Write this run's row into the build file's audit.runs (its own history travels with it)."""
    with contextlib.closing(connect_build(path)) as con:
        info = con.execute(
            "SELECT started_at, as_of_date, full_refresh FROM audit.build_info"
        ).fetchall()[0]
        checks = con.execute(
            """SELECT count(*) FILTER (WHERE passed), count(*) FILTER (WHERE NOT passed)
               FROM audit.check_results WHERE run_id = $run""",
            {"run": run_id},
        ).fetchall()[0]
        loads = con.execute(
            """SELECT count(*), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0)
               FROM audit.load_log WHERE run_id = $run""",
            {"run": run_id},
        ).fetchall()[0]
        version = con.execute(
            "SELECT coalesce(max(warehouse_version), 0) + 1 FROM audit.runs "
            "WHERE status = 'published'"
        ).fetchall()[0][0]
        row = {
            "run_id": run_id,
            "started_at": info[0],
            "finished_at": utcnow(),
            "status": status,
            "warehouse_version": version if status == "published" else None,
            "as_of_date": info[1],
            "checks_passed": checks[0],
            "checks_failed": checks[1],
            "files_loaded": loads[0],
            "rows_loaded": loads[1],
            "rows_quarantined": loads[2],
            "full_refresh": info[2],
            "build_file": path.name,
            "failure_reason": failure_reason,
        }
        con.execute("DELETE FROM audit.runs WHERE run_id = $run", {"run": run_id})
        cols = ", ".join(row)
        con.execute(
            f"INSERT INTO audit.runs ({cols}) VALUES ({', '.join('$' + k for k in row)})", row
        )
        con.execute("CHECKPOINT")
    return row


def switch_current(settings: Settings, build: Path) -> None:
    """Point current.duckdb at `build` atomically (temp symlink + os.replace)."""
    cur = settings.current_warehouse
    tmp = cur.with_name(f".current.{uuid.uuid4().hex}.tmp")
    os.symlink(os.path.relpath(build, cur.parent), tmp)
    os.replace(tmp, cur)


def prune_builds(settings: Settings) -> list[Path]:
    """Keep the newest `keep_builds` build files (and always the published one)."""
    current = published_target(settings)
    builds = sorted(settings.builds_dir.glob("*.duckdb"))
    removed = []
    for b in builds[: max(len(builds) - settings.keep_builds, 0)]:
        if current and b.resolve() == current:
            continue
        for f in (b, b.with_name(b.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
        shutil.rmtree(b.with_name(b.name + ".tmp"), ignore_errors=True)  # DuckDB's spill folder
        removed.append(b)
    return removed


def publish(settings: Settings, build: Path, run_id: str) -> dict[str, object]:
    """Record the run as published inside the build, switch current to it, prune old builds."""
    row = record_run(build, run_id=run_id, status="published")
    switch_current(settings, build)
    prune_builds(settings)
    return row


class WarehouseBusyError(RuntimeError):
    """Another build holds the warehouse's writer lock."""


@contextlib.contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """One writer at a time on a warehouse folder (in-process builds bypass Dagster's queue).

    The lock file says who holds it (pid, start time); the kernel drops the lock when that
    process ends, however it ends, so a crashed build never leaves a stale lock."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    lock = settings.warehouse_dir / ".writer.lock"
    with lock.open("a+") as fh:  # not "w": that would erase the holder's note before locking
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = " ".join(fh.read().split())[:200] or "another process"
            raise WarehouseBusyError(
                f"another build is writing {settings.warehouse_dir} ({holder}): wait for it to "
                f"finish, or stop it; the lock {lock.name} frees itself when that process ends"
            ) from None
        try:
            with contextlib.suppress(OSError):  # the note is a courtesy: a full disk may refuse
                fh.truncate(0)
                fh.write(f"pid {os.getpid()} since {utcnow():%Y-%m-%d %H:%M:%S} UTC\n")
                fh.flush()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def remove_orphan_builds(settings: Settings) -> list[Path]:
    """Remove build files no published run owns: left by a build that was killed or ran out of
    disk before it could clean up. Called under the writer lock, so no build is running."""
    if settings.keep_failed_builds or not settings.builds_dir.is_dir():
        return []
    current = published_target(settings)
    owned: set[str] = set()
    if current:
        with (
            contextlib.closing(duckdb.connect(str(current), read_only=True)) as con,
            contextlib.suppress(duckdb.Error),
        ):
            owned = {
                r[0]
                for r in con.execute(
                    "SELECT build_file FROM audit.runs WHERE status = 'published'"
                ).fetchall()
            }
    removed = []
    for b in sorted(settings.builds_dir.glob("*.duckdb")):
        if b.name in owned or (current and b.resolve() == current):
            continue
        for f in (b, b.with_name(b.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
        shutil.rmtree(b.with_name(b.name + ".tmp"), ignore_errors=True)
        removed.append(b)
    return removed
