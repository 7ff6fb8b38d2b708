"""Write-audit-publish as assets: the run's build file first, publication last (it runs only if
every upstream step and blocking check succeeded)."""

import contextlib
import datetime as dt

import dagster as dg

from pipelines.defs.resources import WRITER_POOL, WarehouseResource
from pipelines.ingest.landing import horizon, record_refused, scan_landing
from pipelines.warehouse.publish import connect_build, prepare_build, publish, utcnow

BUILD_KEY = dg.AssetKey(["warehouse", "build"])
PUBLISHED_KEY = dg.AssetKey(["warehouse", "current"])


class BuildConfig(dg.Config):
    """Per-run options: a full refresh starts from an empty file; as-of defaults to the latest
    extract date in the landing folder (deterministic builds)."""

    full_refresh: bool = False
    as_of_date: str = ""


def resolve_as_of(
    config_value: str, settings_value: dt.date | None, landing, tolerance_days: int = 1
) -> dt.date:
    """Config, then settings, then the latest accepted extract (never a refused one), then today."""
    if config_value:
        return dt.date.fromisoformat(config_value)
    latest = scan_landing(landing, tolerance_days=tolerance_days).latest_extract_date()
    return settings_value or latest or dt.datetime.now(dt.UTC).date()


@dg.asset(key=BUILD_KEY, group_name="warehouse", pool=WRITER_POOL, kinds={"duckdb"})
def warehouse_build(
    context: dg.AssetExecutionContext, config: BuildConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """This run's build file: a copy of the published warehouse, or empty on a full refresh."""
    settings = warehouse.settings()
    tolerance = settings.extract_future_tolerance_days
    as_of = resolve_as_of(config.as_of_date, settings.as_of_date, settings.landing_dir, tolerance)
    started = utcnow()
    path = prepare_build(
        settings, context.run_id, full_refresh=config.full_refresh, as_of=as_of, started_at=started
    )
    today = horizon(started.date(), as_of, tolerance)
    scan = scan_landing(settings.landing_dir, today=today, tolerance_days=tolerance)
    with contextlib.closing(connect_build(path)) as con:
        refused = record_refused(con, scan, context.run_id, started)
    for r in scan.refused:
        context.log.warning(f"refused: {r.reason}")
    return dg.MaterializeResult(
        metadata={
            "build_file": str(path),
            "as_of_date": as_of.isoformat(),
            "full_refresh": config.full_refresh,
            "files_refused": refused,
        }
    )


def published_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY, group_name="warehouse", deps=upstream, pool=WRITER_POOL, kinds={"duckdb"}
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        """Switch current.duckdb to this build (reached only when nothing upstream failed)."""
        settings = warehouse.settings()
        path = warehouse.build_path(context.run_id)
        row = publish(settings, path, context.run_id)
        return dg.MaterializeResult(metadata={k: str(v) for k, v in row.items() if v is not None})

    return published_warehouse
