"""The nightly job, its 02:00 schedule, a sensor that builds when new extracts land, the
run-status sensors that record and alert on builds the daemon ran, and the hourly freshness
check. Schedule and new-extracts sensor start RUNNING when SUBOPS_SCHEDULE_ENABLED /
SUBOPS_SENSOR_ENABLED say so (`subops serve`), STOPPED otherwise."""

import datetime as dt
import hashlib
from pathlib import Path

import dagster as dg

from pipelines.defs.resources import WRITER_TAG, WarehouseResource
from pipelines.service.alerts import build_finished, check_freshness, run_url
from pipelines.service.history import record_daemon_run
from pipelines.settings import Settings
from pipelines.warehouse.failures import StepError, failure_reason, record_failure, step_errors
from pipelines.warehouse.pending import landing_scan, pending_files, refusals_changed
from pipelines.warehouse.publish import find_build

NIGHTLY_JOB = "nightly_build"
#: `run_build` tags its in-process runs: `finish` records and alerts on them, so the daemon's
#: run-status sensors (which see every run of the instance) leave them alone.
IN_PROCESS_TAG = {"subops/in_process": "true"}
CANCELED_REASON = (
    "the run was canceled before publication (in the Dagster UI, or by run monitoring after 6 h "
    "or when its process died) — the previous warehouse stays published; build again"
)
#: How often the daemon checks each source's latest extract (SUBOPS_ALERT_STALE_HOURS).
FRESHNESS_INTERVAL_SECONDS = 3600

#: Everything, in one process, one step at a time: a DuckDB file has one writer.
nightly_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
    description="Load new extracts into a new build file, check, dbt build, publish.",
    # runs the daemon launches print warnings and errors only (to `subops serve`'s output): every
    # event is in the Dagster UI's run log. `run_build` passes its own logger config.
    config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
)


def _sensor_status(on: bool) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED


def nightly_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="nightly_build_0200",
        job=nightly_job,
        cron_schedule="0 2 * * *",
        execution_timezone=settings.schedule_timezone,
        default_status=(
            dg.DefaultScheduleStatus.RUNNING
            if settings.schedule_enabled
            else dg.DefaultScheduleStatus.STOPPED
        ),
    )


def _in_process(run: dg.DagsterRun) -> bool:
    return all(run.tags.get(k) == v for k, v in IN_PROCESS_TAG.items())


def _run_times(
    instance: dg.DagsterInstance, run_id: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Start and end of a run (UTC, naive like the rest of the warehouse's timestamps)."""
    try:
        stats = instance.get_run_stats(run_id)
    except Exception:  # a run storage that cannot answer: the record goes without times
        return None, None

    def utc(ts: float | None) -> dt.datetime | None:
        return dt.datetime.fromtimestamp(ts, dt.UTC).replace(tzinfo=None) if ts else None

    return utc(stats.start_time), utc(stats.end_time or stats.start_time)


def _record_not_published(
    context: dg.RunStatusSensorContext,
    warehouse: WarehouseResource,
    errors: list[StepError],
    reason: str | None = None,
) -> None:
    """A daemon run that did not publish: recorded like `finish` records an in-process build
    (the reason in a kept build's audit.runs, a line in runs.jsonl, the build's files removed)
    and one alert."""
    settings = warehouse.settings()
    run_id = context.dagster_run.run_id
    try:
        path: Path | None = find_build(settings, run_id)
    except FileNotFoundError:  # stopped before its build file existed (landing, disk, lock)
        path = None
    if reason is None:
        reason = (
            record_failure(settings, path, run_id, errors)
            if path is not None
            else failure_reason(settings, errors, [])
        )
    context.log.info(f"build {path.name if path else run_id} not published: {reason}")
    url = run_url(settings, run_id)
    started, finished = _run_times(context.instance, run_id)
    record = record_daemon_run(
        settings,
        run_id,
        path,
        published=False,
        failure_reason=reason,
        started_at=started,
        finished_at=finished,
        run_url=url,
    )
    build_finished(settings, record, url)


@dg.run_failure_sensor(
    name="record_failed_build",
    monitored_jobs=[nightly_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def failed_build_sensor(context: dg.RunFailureSensorContext, warehouse: WarehouseResource) -> None:
    """Scheduled/sensor runs (daemon) are recorded like run_build records in-process builds;
    the published warehouse is untouched either way."""
    if not _in_process(context.dagster_run):
        _record_not_published(context, warehouse, step_errors(context.get_step_failure_events()))


@dg.run_status_sensor(
    name="record_canceled_build",
    run_status=dg.DagsterRunStatus.CANCELED,
    monitored_jobs=[nightly_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def canceled_build_sensor(context: dg.RunStatusSensorContext, warehouse: WarehouseResource):
    """A build stopped before it finished: by hand in the Dagster UI, or by run monitoring
    (after 6 hours, or when its process died)."""
    if not _in_process(context.dagster_run):
        _record_not_published(context, warehouse, [], CANCELED_REASON)


@dg.run_status_sensor(
    name="record_published_build",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def published_build_sensor(context: dg.RunStatusSensorContext, warehouse: WarehouseResource):
    """A build the daemon ran and published: its line in runs.jsonl, and an alert when it
    quarantined too many rows or ends a run of failures (recovery)."""
    if _in_process(context.dagster_run):
        return
    settings = warehouse.settings()
    run_id = context.dagster_run.run_id
    path: Path | None
    try:
        path = find_build(settings, run_id)
    except FileNotFoundError:
        path = None
    published = bool(
        path is not None
        and settings.current_warehouse.exists()
        and settings.current_warehouse.resolve() == path.resolve()
    )
    url = run_url(settings, run_id)
    started, finished = _run_times(context.instance, run_id)
    record = record_daemon_run(
        settings,
        run_id,
        path,
        published=published,
        failure_reason=None if published else "the run succeeded but its build is not published",
        started_at=started,
        finished_at=finished,
        run_url=url,
    )
    build_finished(settings, record, url)


def _new_extracts(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Request a build when landing files exist that the published warehouse has not loaded,
    or the files refused under the landing folder changed (run key = digest of both, so each
    change builds once)."""
    settings = warehouse.settings()
    scan = landing_scan(settings)
    pending = pending_files(settings, scan)
    if not pending and (
        not settings.current_warehouse.exists() or not refusals_changed(settings, scan)
    ):
        return dg.SkipReason("no new extract files")
    lines = [f"{f.rel}:{sha}" for f, sha in pending] + [
        f"refused {r.rel}:{r.code}" for r in scan.refused
    ]
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"extracts-{digest}", tags={"subops/new_files": str(len(pending))})


def new_extracts_sensor(settings: Settings) -> dg.SensorDefinition:
    """The new-extracts sensor; RUNNING when SUBOPS_SENSOR_ENABLED."""
    return dg.sensor(
        name="new_extracts",
        job=nightly_job,
        minimum_interval_seconds=60,
        default_status=_sensor_status(settings.sensor_enabled),
    )(_new_extracts)


def _freshness(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Alert when a source's latest extract is older than SUBOPS_ALERT_STALE_HOURS (once per
    source until it delivers again). Requests no run."""
    alert = check_freshness(warehouse.settings())
    return dg.SkipReason(f"alert: {alert.title}" if alert else "no new freshness alert")


def freshness_sensor(settings: Settings) -> dg.SensorDefinition:
    """The hourly freshness check; RUNNING when SUBOPS_ALERT_STALE_HOURS is above 0."""
    return dg.sensor(
        name="source_freshness",
        minimum_interval_seconds=FRESHNESS_INTERVAL_SECONDS,
        default_status=_sensor_status(settings.alert_stale_hours > 0),
    )(_freshness)
