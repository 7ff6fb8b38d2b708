"""What deserves a message, and the one message: a build that failed, a build published with
too many rows quarantined, a source whose extracts stopped arriving, and the recovery after a
failure. Called where builds finish (in-process: `pipelines.run.summary.finish`; daemon runs:
the run-status sensors) and by the hourly freshness sensor.

The state (is the warehouse failing since when, which sources were reported stale) is kept in
`<warehouse>/logs/alert_state.json`, so a recovery is noticed across processes and restarts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.service.freshness import SourceAge, stale_sources
from pipelines.service.notify import deliver
from pipelines.settings import Settings
from pipelines.warehouse.publish import utcnow

log = logging.getLogger("subops.alerts")

STATE_FILE = "alert_state.json"


@dataclass(frozen=True)
class Alert:
    """One message: a title (the e-mail subject), the cause in one line, where to look."""

    kind: str  # failure | quarantine | stale | recovery
    title: str
    cause: str
    look: str
    also: str = ""  # a second cause in the same message (a recovery with too much quarantine)

    def text(self) -> str:
        lines = [self.title, f"cause: {self.cause}"]
        if self.also:
            lines.append(f"also: {self.also}")
        lines.append(f"look: {self.look}")
        return "\n".join(lines)


# --- state ---------------------------------------------------------------------------------


def state_path(settings: Settings) -> Path:
    return settings.warehouse_dir / "logs" / STATE_FILE


@contextlib.contextmanager
def _locked_state(settings: Settings) -> Iterator[dict[str, Any]]:
    """Read, let the caller change, write back atomically; one process at a time (the daemon's
    sensors and an in-process build may finish together)."""
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(path.read_text(encoding="utf-8"))
            state = loaded if isinstance(loaded, dict) else {}
        yield state
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def _send(settings: Settings, state: dict[str, Any], alert: Alert) -> Alert:
    sent = deliver(settings, alert.title, alert.text())
    state["last_alert"] = {
        "kind": alert.kind,
        "at": utcnow().isoformat(timespec="seconds"),
        "title": alert.title,
        "sent": sent,
    }
    log.info("alert %s (%s): %s", alert.kind, ", ".join(sent) or "not sent", alert.title)
    return alert


def run_url(settings: Settings, run_id: str) -> str:
    """The run's page in the Dagster UI (SUBOPS_DAGSTER_URL, else localhost:<dagster_port>)."""
    base = settings.dagster_url or f"http://localhost:{settings.dagster_port}"
    return f"{base.rstrip('/')}/runs/{run_id}"


# --- builds --------------------------------------------------------------------------------


def _one_line(text: object, limit: int = 400) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _build_name(record: Mapping[str, Any]) -> str:
    name = record.get("build_file") or f"run {str(record.get('run_id') or '?')[:8]}"
    return str(name).removesuffix(".duckdb")


def _look(record: Mapping[str, Any], url: str | None, *extra: str) -> str:
    where = [*extra]
    if record.get("log_file"):
        where.append(f"log {record['log_file']}")
    if url:
        where.append(url)
    where.append("subops runs")
    return " · ".join(where)


def quarantine_share(record: Mapping[str, Any]) -> float:
    """Quarantined rows over the rows read (loaded + quarantined) by this build."""
    loaded = int(record.get("rows_loaded") or 0)
    quarantined = int(record.get("rows_quarantined") or 0)
    read = loaded + quarantined
    return quarantined / read if read else 0.0


def _quarantine_cause(settings: Settings, record: Mapping[str, Any]) -> str | None:
    share = quarantine_share(record)
    if not record.get("rows_quarantined") or share <= settings.alert_quarantine_threshold:
        return None
    q = int(record["rows_quarantined"])
    read = q + int(record.get("rows_loaded") or 0)
    return (
        f"{q:,} of {read:,} rows read were quarantined ({share:.1%}), above "
        f"SUBOPS_ALERT_QUARANTINE_THRESHOLD ({settings.alert_quarantine_threshold:.1%}) — see "
        "quarantine.rows for the reasons and fix the extracts"
    )


def build_finished(
    settings: Settings, record: Mapping[str, Any], url: str | None = None
) -> Alert | None:
    """The alert for a finished build (its `runs.jsonl` record), sent; None when all is well.
    Never raises: alerting must not change a build's outcome."""
    try:
        with _locked_state(settings) as state:
            alert = _decide_build(settings, state, record, url)
            return _send(settings, state, alert) if alert else None
    except Exception as exc:  # a full disk, a broken state file: the build result stands
        log.warning("alerting after build %s failed: %s", record.get("run_id"), exc)
        return None


def _decide_build(
    settings: Settings, state: dict[str, Any], record: Mapping[str, Any], url: str | None
) -> Alert | None:
    name = _build_name(record)
    as_of = f" (as of {record['as_of_date']})" if record.get("as_of_date") else ""
    now = utcnow().isoformat(timespec="seconds")
    if record.get("status") != "published":
        failing = state.get("failing") or {"since": now, "builds": 0}
        failing["builds"] = int(failing.get("builds", 0)) + 1
        failing["last_build"] = name
        failing["last_reason"] = _one_line(record.get("failure_reason"), 200)
        state["failing"] = failing
        return Alert(
            "failure",
            f"subops: build {name} FAILED{as_of} — the previous warehouse stays published",
            _one_line(record.get("failure_reason") or "the run stopped before publication"),
            _look(record, url),
        )
    quarantine = _quarantine_cause(settings, record)
    failing = state.pop("failing", None)
    if failing:
        n = int(failing.get("builds", 1))
        return Alert(
            "recovery",
            f"subops: build {name} published{as_of} — recovered",
            f"published after {n} failed build{'s' if n != 1 else ''} since "
            f"{failing.get('since', '?')} UTC (last failure: {failing.get('last_reason', '?')})",
            _look(record, url),
            also=quarantine or "",
        )
    if quarantine:
        return Alert(
            "quarantine",
            f"subops: build {name} published{as_of} with "
            f"{quarantine_share(record):.1%} of its rows quarantined",
            quarantine,
            _look(record, url),
        )
    return None


# --- freshness -----------------------------------------------------------------------------


def check_freshness(settings: Settings, now: dt.datetime | None = None) -> Alert | None:
    """Alert once when a source's extracts stop arriving (SUBOPS_ALERT_STALE_HOURS), and once
    when every reported source delivers again. Never raises."""
    try:
        stale = stale_sources(settings, now)
        with _locked_state(settings) as state:
            alert = _decide_freshness(settings, state, stale)
            return _send(settings, state, alert) if alert else None
    except Exception as exc:
        log.warning("the freshness check failed: %s", exc)
        return None


def _decide_freshness(
    settings: Settings, state: dict[str, Any], stale: list[SourceAge]
) -> Alert | None:
    reported: dict[str, str] = dict(state.get("stale") or {})
    now_stale = {a.source: a.latest_extract for a in stale}
    new = [a for a in stale if a.source not in reported]
    back = sorted(s for s in reported if s not in now_stale)
    state["stale"] = {s: reported.get(s, now_stale[s]) for s in now_stale}
    hours = f"{settings.alert_stale_hours:g} h"
    landing = settings.landing_dir
    if new:
        first = new[0]
        others = [a.describe() for a in stale if a.source != first.source]
        names = ", ".join(a.source for a in new)
        return Alert(
            "stale",
            f"subops: no new extract from {names} for more than {hours}",
            f"{first.source}'s latest extract is {first.latest_extract}, "
            f"{first.age} old (allowed: {hours}, SUBOPS_ALERT_STALE_HOURS)"
            + (f"; also stale: {', '.join(others)}" if others else ""),
            f"{landing}/{first.source}/ — is the export job that delivers it running?",
        )
    if back and not now_stale:
        return Alert(
            "recovery",
            f"subops: extracts arriving again from {', '.join(back)}",
            f"every source delivered within {hours}",
            f"{landing} · subops runs",
        )
    return None
