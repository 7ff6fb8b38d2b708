"""What the next build has to do: the landing folder as a build sees it, the files the published
warehouse has not loaded, and the build's as-of date. Read by `subops build` (is there anything
to build?), by the build's own steps and by the new-extracts sensor."""

from __future__ import annotations

import contextlib
import datetime as dt

import duckdb

from pipelines.contract.model import LANDING_REJECT_REASONS
from pipelines.ingest.landing import LandingFile, LandingScan, horizon, scan_landing
from pipelines.settings import Settings
from pipelines.warehouse.readonly import connect_readonly


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def landing_scan(
    settings: Settings, as_of: dt.date | None = None, *, today: dt.date | None = None
) -> LandingScan:
    """The landing folder as a build as of `as_of` sees it: extracts dated after the horizon
    (`today`, default now, or a later as-of date, plus the tolerance) are refused."""
    tolerance = settings.extract_future_tolerance_days
    day = horizon(today or today_utc(), as_of, tolerance)
    return scan_landing(settings.landing_dir, today=day, tolerance_days=tolerance)


def resolve_as_of(
    settings: Settings, as_of: dt.date | None = None, scan: LandingScan | None = None
) -> dt.date:
    """The build's as-of date: the one asked for, else the settings' (SUBOPS_AS_OF_DATE), else
    the date of the latest accepted extract (never a refused one: deterministic builds), else
    today (UTC)."""
    explicit = as_of or settings.as_of_date
    if explicit:
        return explicit
    scan = scan or landing_scan(settings)
    return scan.latest_extract_date() or today_utc()


def pending_files(
    settings: Settings, scan: LandingScan | None = None
) -> list[tuple[LandingFile, str]]:
    """Accepted landing files (with sha256) the published warehouse has not loaded as they are."""
    scan = scan or landing_scan(settings)
    done: set[tuple[str, str]] = set()
    if settings.current_warehouse.exists():
        with (
            contextlib.closing(connect_readonly(settings.current_warehouse)) as con,
            contextlib.suppress(duckdb.Error),
        ):
            done = set(
                con.execute(
                    "SELECT file, sha256 FROM audit.load_log WHERE status <> 'superseded'"
                ).fetchall()
            )
    out = []
    for f in scan.files:
        sha = f.sha256()
        if (f.rel, sha) not in done:
            out.append((f, sha))
    return out


def refusals_changed(settings: Settings, scan: LandingScan) -> bool:
    """Whether the files refused under the landing folder differ from those the published
    warehouse reports (a new misplaced file needs a build that records it)."""
    known: set[tuple[str, str]] = set()
    with (
        contextlib.closing(connect_readonly(settings.current_warehouse)) as con,
        contextlib.suppress(duckdb.Error),
    ):
        known = set(
            con.execute(
                "SELECT file, reason_code FROM quarantine.files "
                "WHERE list_contains($codes, reason_code)",
                {"codes": sorted(LANDING_REJECT_REASONS)},
            ).fetchall()
        )
    return known != {(r.rel, r.code) for r in scan.refused}


def published_as_of(settings: Settings) -> dt.date | None:
    """The as-of date of the published warehouse (None before the first publication)."""
    with (
        contextlib.closing(connect_readonly(settings.current_warehouse)) as con,
        contextlib.suppress(duckdb.Error),
    ):
        rows = con.execute(
            "SELECT as_of_date FROM audit.runs WHERE status = 'published' "
            "ORDER BY warehouse_version DESC LIMIT 1"
        ).fetchall()
        return rows[0][0] if rows else None
    return None
