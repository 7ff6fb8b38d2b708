"""One settings object for the whole build: `SUBOPS_*` environment variables, then `subops.toml`
in the working directory, then defaults that make `make demo` work with nothing set.
CLI flags override by constructing `Settings(**overrides)`."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pipelines.contract.model import CODE_PATTERNS, ColumnType
from pipelines.paths import DBT_PROJECT_DIR as DBT_PROJECT_DIR  # re-exported: defined in paths
from pipelines.paths import PROJECT_ROOT as PROJECT_ROOT


class Settings(BaseSettings):
    """Public configuration names (stable): SUBOPS_LANDING_DIR, SUBOPS_WAREHOUSE_DIR, ..."""

    model_config = SettingsConfigDict(
        env_prefix="SUBOPS_", toml_file="subops.toml", extra="ignore", validate_default=True
    )

    landing_dir: Path = Field(Path("data/landing"), description="folder of extracts to ingest")
    warehouse_dir: Path = Field(
        Path("data/warehouse"), description="builds/ and the published current.duckdb live here"
    )
    reporting_currency: str = Field("USD", pattern=f"^{CODE_PATTERNS[ColumnType.CURRENCY]}$")
    schedule_timezone: str = Field("UTC", description="timezone of the 02:00 nightly schedule")
    as_of_date: dt.date | None = Field(
        None, description="build as-of date; default: the latest extract date in the landing folder"
    )
    support_cost_per_minute: Decimal = Field(Decimal("1.50"), description="R7, reporting currency")
    services_cost_per_hour: Decimal = Field(Decimal("95"), description="R7, reporting currency")
    keep_builds: int = Field(3, ge=1, description="how many build files to keep after publishing")
    keep_failed_builds: bool = Field(
        False, description="keep a failed build's file for inspection (default: removed)"
    )
    snapshot_max_delete_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="a snapshot extract that would mark more than this share of its table "
        "deleted blocks publication unless confirmed",
    )
    confirm_deletions: bool = Field(
        False, description="publish even if a snapshot deletes more than the allowed share"
    )
    extract_future_tolerance_days: int = Field(
        1, ge=0, description="an extract dated later than today + this many days is refused"
    )
    fx_max_rate_age_days: int = Field(
        7, ge=0, description="an FX rate older than this many days on the day needed is a breach"
    )
    build_memory_limit: str = Field(
        "2GB",
        pattern=r"(?i)^[0-9]+(\.[0-9]+)?\s*[KMGT]i?B$",
        description="memory cap of each DuckDB connection of a build (loader, checks, dbt); "
        "past it, DuckDB spills to build_temp_dir",
    )
    build_threads: int | None = Field(
        None, ge=1, description="DuckDB threads of a build's connections; unset: the CPU cores"
    )
    build_temp_dir: Path | None = Field(
        None,
        description="where a build's DuckDB spills what does not fit in build_memory_limit; "
        "unset: next to the build file (<build file>.tmp)",
    )
    gx_max_rows: int = Field(
        100_000,
        ge=1,
        description="the Great Expectations suites validate at most this many of the rows a "
        "build loaded per table (all of them up to it; beyond, a uniform sample)",
    )
    sql_memory_limit: str = Field("2GB", description="memory cap of a read-only query session")
    sql_timeout_seconds: float = Field(
        120, gt=0, description="a read-only query running longer than this is interrupted"
    )
    dashboard_port: int = Field(8501)
    dashboard_roles_file: Path | None = Field(
        None,
        description="TOML file mapping dashboard users to roles (executive, finance, "
        "operations, analyst); unset: every page for everyone",
    )
    dashboard_user_header: str | None = Field(
        None,
        description="HTTP header holding the signed-in user's e-mail, set by an authenticating "
        "proxy in front of the dashboard (used when st.login/OIDC is not configured)",
    )
    # --- the engine dbt runs on: docs/engines.md ------------------------------------------
    target: Literal["duckdb", "postgres", "spark"] = Field(
        "duckdb",
        description="where dbt builds and serves the marts: duckdb (the build file), postgres or "
        "spark (raw tables are shipped there from the DuckDB build file)",
    )
    dashboard_target: Literal["duckdb", "postgres", "spark"] = Field(
        "duckdb",
        description="where the dashboard reads the marts: duckdb (the published file), "
        "postgres (the served schemas, as the read-only role) or spark (the served run's "
        "Parquet files, read by DuckDB); the audit trail still from the published file",
    )
    # PostgreSQL (target postgres). The passwords are read from the environment only
    # (SUBOPS_PG_PASSWORD, SUBOPS_PG_READER_PASSWORD, or libpq's PGPASSWORD / ~/.pgpass).
    pg_host: str = Field("localhost", description="PostgreSQL host (or a Unix socket folder)")
    pg_port: int = Field(5432, description="PostgreSQL port")
    pg_user: str = Field("subops", description="PostgreSQL role that builds and publishes")
    pg_dbname: str = Field("subops", description="PostgreSQL database holding the warehouse")
    pg_reader_user: str = Field(
        "subops_reader",
        description="read-only PostgreSQL role of the dashboard and subops sql (granted SELECT "
        "on the served schemas at each publication)",
    )
    # Spark (target spark): pipelines/targets/spark.py adds its settings here.
    # --- the service (`subops serve`) and its alerts: docs/deploy.md -----------------------
    schedule_enabled: bool = Field(
        False, description="subops serve: the nightly schedule starts running (else stopped)"
    )
    sensor_enabled: bool = Field(
        False, description="subops serve: the new-extracts sensor starts running (else stopped)"
    )
    serve_host: str = Field(
        "127.0.0.1",
        description="address the Dagster UI and the dashboard listen on (0.0.0.0: every "
        "interface, e.g. in a container)",
    )
    dagster_port: int = Field(3000, description="port of the Dagster UI under subops serve")
    dagster_url: str | None = Field(
        None,
        description="the Dagster UI's address as operators open it, for links in alerts "
        "(default http://localhost:<dagster_port>)",
    )
    dagster_pg_url: SecretStr | None = Field(
        None,
        description="PostgreSQL URL for Dagster's run, event and schedule storage "
        "(dagster-postgres); unset: SQLite files in DAGSTER_HOME",
    )
    alert_webhook_url: SecretStr | None = Field(
        None, description='webhook receiving alerts as Slack-compatible JSON {"text": ...}'
    )
    alert_email_to: str | None = Field(
        None, description="comma-separated e-mail addresses receiving alerts (needs smtp_host)"
    )
    smtp_host: str | None = Field(None, description="SMTP server sending alert e-mails")
    smtp_port: int = Field(587, description="SMTP port (587 STARTTLS, 465 SSL, 25 none)")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="how the SMTP connection is encrypted"
    )
    smtp_user: str | None = Field(None, description="SMTP login (unset: no login)")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_from: str | None = Field(
        None, description="sender of alert e-mails (default: smtp_user, else subops@<host>)"
    )
    alert_quarantine_threshold: float = Field(
        0.01,
        ge=0,
        le=1,
        description="a published build whose quarantined rows exceed this share of the rows "
        "it read alerts (0: any quarantined row; 1: never)",
    )
    alert_stale_hours: float = Field(
        36,
        ge=0,
        description="alert when a source's latest extract is older than this many hours "
        "(0: no freshness alerts)",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # precedence: CLI flags (init) > environment > subops.toml > defaults
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def current_warehouse(self) -> Path:
        """The published warehouse: always `<warehouse dir>/current.duckdb`."""
        return self.warehouse_dir / "current.duckdb"

    @property
    def builds_dir(self) -> Path:
        return self.warehouse_dir / "builds"

    def build_duckdb_config(self, build_file: Path) -> dict[str, str]:
        """DuckDB settings of every connection a build opens (loader, checks and dbt's profile):
        bounded memory and threads, spilling to disk rather than failing. Unset, the spill
        folder is DuckDB's own `<build file>.tmp`, removed with the build's files."""
        spill = self.build_temp_dir or build_file.with_name(build_file.name + ".tmp")
        return {
            "memory_limit": self.build_memory_limit.replace(" ", ""),
            "threads": str(self.build_threads or _cores()),
            "temp_directory": str(Path(spill).resolve()),
        }


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def get_settings(**overrides: object) -> Settings:
    """Settings with CLI overrides applied (None values are ignored)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
