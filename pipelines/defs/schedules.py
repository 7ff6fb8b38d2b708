"""The nightly job, its 02:00 schedule, and a sensor that builds when new extracts land."""

import hashlib

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from pipelines.defs.resources import WRITER_TAG, WarehouseResource
from pipelines.settings import Settings

NIGHTLY_JOB = "nightly_build"


def nightly_job() -> UnresolvedAssetJobDefinition:
    """Everything, in one process, one step at a time: a DuckDB file has one writer."""
    return dg.define_asset_job(
        NIGHTLY_JOB,
        selection=dg.AssetSelection.all(),
        executor_def=dg.in_process_executor,
        tags=WRITER_TAG,
        description="Load new extracts into a new build file, check, dbt build, publish.",
    )


def nightly_schedule(
    job: UnresolvedAssetJobDefinition, settings: Settings
) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="nightly_build_0200",
        job=job,
        cron_schedule="0 2 * * *",
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )


def failed_build_sensor(job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    """Scheduled/sensor runs (daemon) record a failed build in its audit.runs, like run_build
    does for in-process builds; the published warehouse is untouched either way."""

    @dg.run_failure_sensor(
        name="record_failed_build",
        monitored_jobs=[job],
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def _record(context: dg.RunFailureSensorContext, warehouse: WarehouseResource) -> None:
        from pipelines.warehouse.build import record_failure
        from pipelines.warehouse.publish import find_build

        run_id = context.dagster_run.run_id
        try:
            path = find_build(warehouse.settings(), run_id)
        except FileNotFoundError:
            return
        errors = [f"{e.step_key}: {e.message}" for e in context.get_step_failure_events()]
        record_failure(path, run_id, errors)

    return _record


def new_extracts_sensor(job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_extracts",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        """Request a build when landing files exist that the published warehouse has not loaded,
        or the files refused under the landing folder changed (run key = digest of both, so each
        change builds once)."""
        from pipelines.warehouse.build import landing_scan, pending_files, refusals_changed

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
        return dg.RunRequest(
            run_key=f"extracts-{digest}", tags={"subops/new_files": str(len(pending))}
        )

    return _sensor
