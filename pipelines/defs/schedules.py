"""The nightly job, its 02:00 schedule, and a sensor that builds when new extracts land."""

import hashlib

import dagster as dg

from pipelines.defs.resources import WRITER_TAG, WarehouseResource
from pipelines.settings import Settings
from pipelines.warehouse.failures import record_failure, step_errors
from pipelines.warehouse.pending import landing_scan, pending_files, refusals_changed
from pipelines.warehouse.publish import find_build

NIGHTLY_JOB = "nightly_build"

#: Everything, in one process, one step at a time: a DuckDB file has one writer.
nightly_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
    description="Load new extracts into a new build file, check, dbt build, publish.",
)


def nightly_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="nightly_build_0200",
        job=nightly_job,
        cron_schedule="0 2 * * *",
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


@dg.run_failure_sensor(
    name="record_failed_build",
    monitored_jobs=[nightly_job],
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def failed_build_sensor(context: dg.RunFailureSensorContext, warehouse: WarehouseResource) -> None:
    """Scheduled/sensor runs (daemon) record a failed build in its audit.runs, like run_build
    does for in-process builds; the published warehouse is untouched either way."""
    settings = warehouse.settings()
    run_id = context.dagster_run.run_id
    try:
        path = find_build(settings, run_id)
    except FileNotFoundError:
        return
    reason = record_failure(settings, path, run_id, step_errors(context.get_step_failure_events()))
    context.log.info(f"build {path.name} not published: {reason}")


@dg.sensor(
    name="new_extracts",
    job=nightly_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def new_extracts_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
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
