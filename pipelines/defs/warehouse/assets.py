"""Write-audit-publish as assets: the run's build file first, publication last (it runs only if
every upstream step and blocking check succeeded)."""

import contextlib
import datetime as dt

import dagster as dg

from pipelines.defs.resources import WRITER_POOL, WarehouseResource
from pipelines.targets import get_target, run_tag_for
from pipelines.warehouse.audit import record_mapping_rejects, record_refused
from pipelines.warehouse.pending import landing_scan, resolve_as_of
from pipelines.warehouse.publish import connect_build, prepare_build, publish, utcnow

BUILD_KEY = dg.AssetKey(["warehouse", "build"])
PUBLISHED_KEY = dg.AssetKey(["warehouse", "current"])


class BuildConfig(dg.Config):
    """Per-run options: a full refresh starts from an empty file; an empty as-of date is
    resolved when the run starts (`resolve_as_of`: settings, else the latest extract)."""

    full_refresh: bool = False
    as_of_date: str = ""


@dg.asset(key=BUILD_KEY, group_name="warehouse", pool=WRITER_POOL, kinds={"duckdb"})
def warehouse_build(
    context: dg.AssetExecutionContext, config: BuildConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """This run's build file: a copy of the published warehouse, or empty on a full refresh."""
    settings = warehouse.settings()
    asked = dt.date.fromisoformat(config.as_of_date) if config.as_of_date else None
    as_of = resolve_as_of(settings, asked)
    started = utcnow()
    path = prepare_build(
        settings, context.run_id, full_refresh=config.full_refresh, as_of=as_of, started_at=started
    )
    scan = landing_scan(settings, as_of, today=started.date())
    with contextlib.closing(connect_build(path, settings)) as con:
        refused = record_refused(con, scan, context.run_id, started)
        unmapped = record_mapping_rejects(con, settings.landing_dir, context.run_id, started)
    for r in scan.refused:
        context.log.warning(f"refused: {r.reason}")
    return dg.MaterializeResult(
        metadata={
            "build_file": str(path),
            "as_of_date": as_of.isoformat(),
            "full_refresh": config.full_refresh,
            "files_refused": refused,
            "rows_not_mapped": unmapped,
        }
    )


def published_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY, group_name="warehouse", deps=upstream, pool=WRITER_POOL, kinds={"duckdb"}
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """Switch current.duckdb to this build (reached only when nothing upstream failed); on a
        server target first switch the run's schemas in there (the marts served), then the file
        (the audit trail and load log the next build starts from)."""
        settings = warehouse.settings()
        path = warehouse.build_path(context.run_id)
        target = get_target(settings)
        if target.is_server:
            target.publish(run_tag_for(context.run_id))
        row = publish(settings, path, context.run_id)
        meta = {k: str(v) for k, v in row.items() if v is not None}
        return dg.MaterializeResult(metadata={**meta, "target": target.describe()})

    return published_warehouse
