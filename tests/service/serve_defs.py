"""A small code location for the `subops serve` test: the project's definitions load the dbt
manifest (about 15 s of a test's budget); the supervisor, daemon, webserver and dashboard are
the same either way. Loaded by `subops serve --defs-module serve_defs`."""

import dagster as dg


@dg.op
def noop() -> None:
    pass


@dg.job
def nightly_build() -> None:
    noop()


defs = dg.Definitions(
    jobs=[nightly_build],
    schedules=[
        dg.ScheduleDefinition(
            name="nightly_build_0200",
            job=nightly_build,
            cron_schedule="0 2 * * *",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )
    ],
)
