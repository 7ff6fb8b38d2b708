"""How old each source's latest extract is: the freshness check behind the stale-source alert.

A source (`crm`, `billing`, ...) is as fresh as its newest accepted extract in the landing
folder, whatever the table. An extract id names the moment the data is of: a timestamp id
(`2026-11-27T060000Z`) that moment, a date id (`2026-11-27`) the end of that day, so a daily
extract delivered the next night is about a day old, not two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipelines.ingest.landing import parse_extract_id
from pipelines.settings import Settings
from pipelines.warehouse.pending import landing_scan
from pipelines.warehouse.publish import utcnow


@dataclass(frozen=True)
class SourceAge:
    """A source's newest extract and its age in hours at the time of the check."""

    source: str
    latest_extract: str  # the extract id, e.g. 2026-11-27
    latest_at: dt.datetime  # UTC, naive: the moment the extract covers up to
    age_hours: float

    @property
    def age(self) -> str:
        """`52 h`, or `12 days` from three days on."""
        return (
            f"{self.age_hours / 24:.0f} days" if self.age_hours >= 72 else f"{self.age_hours:.0f} h"
        )

    def describe(self) -> str:
        return f"{self.source} (latest extract {self.latest_extract}, {self.age} old)"


def extract_moment(extract_id: str) -> dt.datetime | None:
    """The moment an extract covers up to (UTC): a date id covers its whole day."""
    when = parse_extract_id(extract_id)
    if when is None:
        return None
    return when + dt.timedelta(days=1) if len(extract_id) == 10 else when


def source_ages(settings: Settings, now: dt.datetime | None = None) -> list[SourceAge]:
    """Every source with at least one accepted extract, stalest first. A source that never
    delivered is not listed (the build's checks speak for a missing table)."""
    now = now or utcnow()
    scan = landing_scan(settings, today=now.date())
    latest: dict[str, tuple[dt.datetime, str]] = {}
    for f in scan.files:
        moment, source = extract_moment(f.extract_id), f.table.source
        if moment is not None and (source not in latest or moment > latest[source][0]):
            latest[source] = (moment, f.extract_id)
    ages = [
        SourceAge(source, ext, moment, max((now - moment).total_seconds() / 3600, 0.0))
        for source, (moment, ext) in latest.items()
    ]
    return sorted(ages, key=lambda a: (-a.age_hours, a.source))


def stale_sources(settings: Settings, now: dt.datetime | None = None) -> list[SourceAge]:
    """Sources whose latest extract is older than SUBOPS_ALERT_STALE_HOURS (0: none)."""
    hours = settings.alert_stale_hours
    if hours <= 0:
        return []
    return [a for a in source_ages(settings, now) if a.age_hours > hours]
