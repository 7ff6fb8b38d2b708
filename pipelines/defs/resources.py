"""The warehouse resource: settings for the steps of a build, and where its build file is."""

from decimal import Decimal
from pathlib import Path

import dagster as dg

from pipelines.settings import Settings, get_settings
from pipelines.warehouse.publish import find_build

#: Steps that write the warehouse share this pool (limit 1 in dagster.yaml: one writer).
WRITER_POOL = "subops_warehouse_writer"
#: Run tag limited to 1 concurrent run by the instance's run queue (see instance.py).
WRITER_TAG = {"subops/writer": "warehouse"}
#: Ingest steps are safe to retry: each table loads in one transaction, loaded files are skipped.
INGEST_RETRY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL)


class WarehouseResource(dg.ConfigurableResource):
    """Folders and build parameters, from `Settings` (env SUBOPS_*, subops.toml, CLI flags)."""

    landing_dir: str
    warehouse_dir: str
    keep_builds: int = 3
    reporting_currency: str = "USD"
    # money rates travel as decimal strings (Dagster config has no Decimal; never a float)
    support_cost_per_minute: str = "1.50"
    services_cost_per_hour: str = "95"
    snapshot_max_delete_share: float = 0.05
    confirm_deletions: bool = False
    extract_future_tolerance_days: int = 1
    fx_max_rate_age_days: int = 7
    keep_failed_builds: bool = False

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "WarehouseResource":
        s = settings or get_settings()
        return cls(
            landing_dir=str(Path(s.landing_dir).resolve()),
            warehouse_dir=str(Path(s.warehouse_dir).resolve()),
            keep_builds=s.keep_builds,
            reporting_currency=s.reporting_currency,
            support_cost_per_minute=str(s.support_cost_per_minute),
            services_cost_per_hour=str(s.services_cost_per_hour),
            snapshot_max_delete_share=s.snapshot_max_delete_share,
            confirm_deletions=s.confirm_deletions,
            extract_future_tolerance_days=s.extract_future_tolerance_days,
            fx_max_rate_age_days=s.fx_max_rate_age_days,
            keep_failed_builds=s.keep_failed_builds,
        )

    def settings(self) -> Settings:
        return get_settings(
            landing_dir=Path(self.landing_dir),
            warehouse_dir=Path(self.warehouse_dir),
            keep_builds=self.keep_builds,
            reporting_currency=self.reporting_currency,
            support_cost_per_minute=Decimal(self.support_cost_per_minute),
            services_cost_per_hour=Decimal(self.services_cost_per_hour),
            snapshot_max_delete_share=self.snapshot_max_delete_share,
            confirm_deletions=self.confirm_deletions,
            extract_future_tolerance_days=self.extract_future_tolerance_days,
            fx_max_rate_age_days=self.fx_max_rate_age_days,
            keep_failed_builds=self.keep_failed_builds,
        )

    def build_path(self, run_id: str) -> Path:
        return find_build(self.settings(), run_id)
