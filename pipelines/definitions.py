"""The Dagster entry point (`dagster dev -m pipelines.definitions`): raw assets per contract
table, dbt models, renewal risk, write-audit-publish, the nightly job, its schedule and the
extracts sensor.
Nothing below imports this module; `pipelines.run` runs its job in-process."""

import dagster as dg

from pipelines.defs.dbt.assets import build_dbt_assets, dbt_resource
from pipelines.defs.ingest.assets import RAW_ASSETS, RAW_KEYS, REFERENCES_KEY, reference_breaches
from pipelines.defs.intelligence.assets import RISK_KEYS, renewal_risk_assets
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.schedules import (
    canceled_build_sensor,
    failed_build_sensor,
    freshness_sensor,
    new_extracts_sensor,
    nightly_job,
    nightly_schedule,
    published_build_sensor,
)
from pipelines.defs.warehouse.assets import published_asset, warehouse_build
from pipelines.settings import Settings, get_settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Definitions for one warehouse (settings: folders, currency, timezone)."""
    settings = settings or get_settings()
    dbt = build_dbt_assets()
    dbt_keys = [k for a in dbt for k in a.keys]
    # renewal risk reads dbt's features: it needs the dbt step (none in a shell project)
    risk = [renewal_risk_assets(dbt_keys)] if dbt_keys else []
    risk_keys = RISK_KEYS if risk else []
    publish = published_asset([*RAW_KEYS, REFERENCES_KEY, *dbt_keys, *risk_keys])
    return dg.Definitions(
        assets=[warehouse_build, *RAW_ASSETS, reference_breaches, *dbt, *risk, publish],
        jobs=[nightly_job],
        schedules=[nightly_schedule(settings)],
        sensors=[
            new_extracts_sensor(settings),
            failed_build_sensor,
            canceled_build_sensor,
            published_build_sensor,
            freshness_sensor(settings),
        ],
        resources={"warehouse": WarehouseResource.from_settings(settings), "dbt": dbt_resource()},
    )


defs = build_definitions()
