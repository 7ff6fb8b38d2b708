"""`run_build`: the CLI's entry point. Runs the Dagster job `nightly_build` in-process (no
daemon) and summarises what happened; the job itself builds, checks and publishes."""

import contextlib
import datetime as dt
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.defs.instance import ensure_dagster_home
from pipelines.defs.schedules import IN_PROCESS_TAG, NIGHTLY_JOB
from pipelines.defs.warehouse.assets import BUILD_KEY, BuildConfig
from pipelines.run.progress import step_progress
from pipelines.run.summary import BuildResult, finish, summarise
from pipelines.settings import Settings
from pipelines.warehouse.failures import run_error, step_errors
from pipelines.warehouse.pending import (
    landing_scan,
    pending_files,
    published_as_of,
    refusals_changed,
    resolve_as_of,
)
from pipelines.warehouse.publish import remove_orphan_builds, writer_lock

__all__ = ["BuildResult", "run_build"]


def _log_path(settings: Settings, run_id: str, keep: int = 20) -> Path:
    """`<warehouse>/logs/<run id>.log`; the oldest logs beyond `keep` are removed."""
    logs = settings.warehouse_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    old = sorted(logs.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for p in old[: max(len(old) - keep + 1, 0)]:
        p.unlink(missing_ok=True)
    return logs / f"{run_id}.log"


def _instance() -> dg.DagsterInstance:
    """The instance in DAGSTER_HOME (created with subops' dagster.yaml), else an ephemeral one."""
    if os.environ.get("DAGSTER_HOME"):
        ensure_dagster_home(Path(os.environ["DAGSTER_HOME"]))
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _up_to_date(settings: Settings, as_of: dt.date) -> BuildResult | None:
    """Nothing to build: no new or changed extract, the same refusals, the same as-of date."""
    scan = landing_scan(settings, as_of)
    if (
        pending_files(settings, scan)
        or refusals_changed(settings, scan)
        or published_as_of(settings) != as_of
    ):
        return None
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
    )


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
    empty file and loads every landing file. As-of: see `resolve_as_of`.
    `progress` gets a sentence per phase; `on_step(done, total, step)` drives a progress bar.
    """
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    if not Path(settings.landing_dir).is_dir():
        raise FileNotFoundError(
            f"the landing folder {settings.landing_dir} does not exist or cannot be read: "
            "set SUBOPS_LANDING_DIR or pass --landing"
        )
    as_of = resolve_as_of(settings, as_of)
    with writer_lock(settings):
        remove_orphan_builds(settings)  # a killed build's file must not fill the disk
        if not full_refresh and settings.current_warehouse.exists():
            say("Looking for new extract files …")
            unchanged = _up_to_date(settings, as_of)
            if unchanged is not None:
                unchanged.seconds = time.perf_counter() - t0
                return unchanged
        say("Preparing the Dagster job (dbt manifest) …")
        job = build_definitions(settings).resolve_job_def(NIGHTLY_JOB)
        say("Loading, checking, building and publishing …")
        instance = _instance()
        run_id = str(uuid.uuid4())  # Dagster's own run ids are uuid4 strings too
        log_path = _log_path(settings, run_id)
        config = BuildConfig(full_refresh=full_refresh, as_of_date=as_of.isoformat())
        with (
            _open_log(log_path) as log,
            contextlib.redirect_stdout(log),  # dagster-dbt echoes dbt's log lines to stdout
            contextlib.redirect_stderr(log),  # Dagster's error lines and traces: detail, not news
            step_progress(instance, run_id, say, on_step, len(job.graph.nodes)),
        ):
            try:
                res = job.execute_in_process(
                    run_id=run_id,
                    run_config=dg.RunConfig(
                        ops={_op_name(BUILD_KEY): config},
                        loggers={"console": {"config": {"log_level": "ERROR"}}},
                    ),
                    instance=instance,
                    raise_on_error=False,
                    tags=IN_PROCESS_TAG,  # recorded and alerted by `finish`, not the sensors
                )
                success, errors = res.success, step_errors(res.all_events)
            except Exception as exc:  # the run itself broke, e.g. its storage hit a full disk
                with contextlib.suppress(OSError):
                    traceback.print_exc(file=log)
                success, errors = False, [run_error(exc)]
        out = summarise(settings, run_id, success, errors)
        out.log_file = log_path
        out.as_of_date, out.full_refresh = as_of, full_refresh
        out.seconds = time.perf_counter() - t0
        finish(settings, out)
    return out


def _op_name(key: dg.AssetKey) -> str:
    """The op of an asset in a job's run config (`warehouse/build` → `warehouse__build`)."""
    return "__".join(key.path)


@contextlib.contextmanager
def _open_log(path: Path) -> Iterator[TextIO]:
    """The run's log, line-buffered; closing it on a full disk must not hide the run's outcome."""
    fh = path.open("w", buffering=1, encoding="utf-8")
    try:
        yield fh
    finally:
        with contextlib.suppress(OSError):
            fh.close()
