"""The warehouse resource: settings for the steps of a build, and where its build file is."""

import datetime as dt
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


def _config_value(value: object) -> object:
    """A settings value as Dagster config: paths absolute; paths, dates, decimals as strings."""
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


class WarehouseResource(dg.ConfigurableResource):
    """The `Settings` a build's steps need, as Dagster config (made by `from_settings`).

    Each field mirrors the `Settings` field of the same name, without a default: defaults live
    in `Settings` only. Paths, dates and money travel as strings (Dagster config has no Path,
    date or Decimal; money is never a float) and are parsed back by `settings()`.
    """

    landing_dir: str
    warehouse_dir: str
    as_of_date: str | None
    keep_builds: int
    reporting_currency: str
    support_cost_per_minute: str
    services_cost_per_hour: str
    snapshot_max_delete_share: float
    confirm_deletions: bool
    extract_future_tolerance_days: int
    fx_max_rate_age_days: int
    keep_failed_builds: bool
    build_memory_limit: str
    build_threads: int | None
    build_temp_dir: str | None
    gx_max_rows: int
    target: str
    pg_host: str
    pg_port: int
    pg_user: str
    pg_dbname: str
    pg_reader_user: str
    # alerts of daemon-run builds (the run-status and freshness sensors). Secrets (webhook URL,
    # SMTP password) are not mirrored: Dagster shows resource config in its UI, so `settings()`
    # reads them from the environment (or subops.toml) of the code server.
    alert_quarantine_threshold: float
    alert_stale_hours: float
    dagster_port: int
    dagster_url: str | None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "WarehouseResource":
        s = settings or get_settings()
        return cls(**{name: _config_value(getattr(s, name)) for name in cls.model_fields})

    def settings(self) -> Settings:
        """`Settings` again (pydantic parses the strings back into Path, date and Decimal)."""
        return get_settings(**{name: getattr(self, name) for name in type(self).model_fields})

    def build_path(self, run_id: str) -> Path:
        return find_build(self.settings(), run_id)
