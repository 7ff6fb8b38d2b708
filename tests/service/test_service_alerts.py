"""Alerts: one message per event (failure, too much quarantine, a source gone stale, recovery),
by webhook and by e-mail, the cause in one line and where to look; no secret in the logs. Unit
level (no build): `finish` is called with a BuildResult, freshness with a hand-made landing."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
import subprocess
import sys
from pathlib import Path

from landing_fixture import write_clean

from pipelines.run.summary import BuildResult, finish
from pipelines.service.alerts import build_finished, check_freshness, state_path
from pipelines.service.freshness import extract_moment, source_ages
from pipelines.service.notify import mask_url
from pipelines.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]
REASON = (
    "1 blocking check failed: raw/billing__usage referential_rules: 5 usage rows name "
    "unknown subscriptions — fix the extracts it names and build again"
)


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh", **kw)


def _failed(settings: Settings, run: str) -> BuildResult:
    return BuildResult(
        published=False,
        run_id=run,
        as_of_date=dt.date(2026, 11, 29),
        failure_reason=REASON,
        log_file=settings.warehouse_dir / "logs" / f"{run}.log",
        seconds=12.0,
    )


def _published(run: str, loaded: int = 1000, quarantined: int = 0) -> BuildResult:
    return BuildResult(
        published=True,
        run_id=run,
        build_file=Path(f"/wh/builds/20261130T020000Z-{run[:8]}.duckdb"),
        warehouse_version=7,
        as_of_date=dt.date(2026, 11, 30),
        rows_loaded=loaded,
        rows_quarantined=quarantined,
        seconds=30.0,
    )


def test_failures_then_recovery_send_one_webhook_each(tmp_path, webhook, caplog):
    caplog.set_level(logging.INFO, logger="subops.alerts")
    s = _settings(tmp_path, alert_webhook_url=webhook.url)
    finish(s, _failed(s, "aaaa1111-run"))  # the in-process build's hook
    finish(s, _failed(s, "bbbb2222-run"))
    finish(s, _published("cccc3333-run"))
    finish(s, _published("dddd4444-run"))  # all well: no message
    msgs = webhook.wait(3)
    assert len(msgs) == 3, msgs
    first = msgs[0].splitlines()
    assert first[0] == (
        "subops: build run aaaa1111 FAILED (as of 2026-11-29) — the previous warehouse stays "
        "published"
    )
    assert first[1] == f"cause: {REASON}"
    assert first[-1] == (f"look: log {s.warehouse_dir / 'logs' / 'aaaa1111-run.log'} · subops runs")
    recovery = msgs[2].splitlines()
    assert (
        recovery[0]
        == "subops: build 20261130T020000Z-cccc3333 published (as of 2026-11-30) — recovered"
    )
    assert recovery[1].startswith("cause: published after 2 failed builds since ")
    assert "last failure: 1 blocking check failed" in recovery[1]
    state = json.loads(state_path(s).read_text())
    assert "failing" not in state and state["last_alert"]["kind"] == "recovery"
    assert state["last_alert"]["sent"] == ["webhook"]
    assert "s3cr3t-token" not in caplog.text
    assert "alert failure (webhook)" in caplog.text


def test_quarantine_above_the_threshold_alerts_below_does_not(tmp_path, webhook):
    s = _settings(tmp_path, alert_webhook_url=webhook.url, alert_quarantine_threshold=0.05)
    finish(s, _published("eeee5555-run", loaded=990, quarantined=10))  # 1 %: quiet
    finish(s, _published("ffff6666-run", loaded=90, quarantined=10))  # 10 %
    msgs = webhook.wait(1)
    assert len(msgs) == 1
    lines = msgs[0].splitlines()
    assert lines[0] == (
        "subops: build 20261130T020000Z-ffff6666 published (as of 2026-11-30) with 10.0% of its "
        "rows quarantined"
    )
    assert lines[1] == (
        "cause: 10 of 100 rows read were quarantined (10.0%), above "
        "SUBOPS_ALERT_QUARANTINE_THRESHOLD (5.0%) — see quarantine.rows for the reasons and fix "
        "the extracts"
    )


def test_a_source_gone_stale_alerts_once_and_recovers(tmp_path, webhook):
    s = _settings(tmp_path, alert_webhook_url=webhook.url, alert_stale_hours=36)
    write_clean(s.landing_dir)  # every source's latest extract is 2026-01-02
    day_after = dt.datetime(2026, 1, 3, 12)  # 12 h after the extract's day ended
    three_days = dt.datetime(2026, 1, 5, 12)  # 60 h
    assert check_freshness(s, day_after) is None
    alert = check_freshness(s, three_days)
    assert alert is not None and alert.kind == "stale"
    assert check_freshness(s, three_days + dt.timedelta(hours=1)) is None  # once per episode
    back = check_freshness(s, day_after)  # e.g. new extracts arrived
    assert back is not None and back.kind == "recovery"
    msgs = webhook.wait(2)
    assert len(msgs) == 2
    stale = msgs[0].splitlines()
    sources = sorted({a.source for a in source_ages(s, three_days)})
    assert stale[0] == f"subops: no new extract from {', '.join(sources)} for more than 36 h"
    assert stale[1].startswith(
        f"cause: {sources[0]}'s latest extract is 2026-01-02, 60 h old (allowed: 36 h, "
        "SUBOPS_ALERT_STALE_HOURS); also stale: "
    )
    assert (
        stale[2]
        == f"look: {s.landing_dir}/{sources[0]}/ — is the export job that delivers it running?"
    )
    assert msgs[1].splitlines()[0] == f"subops: extracts arriving again from {', '.join(sources)}"


def test_extract_ids_name_the_moment_they_cover():
    assert extract_moment("2026-11-27") == dt.datetime(2026, 11, 28)
    assert extract_moment("2026-11-27T060000Z") == dt.datetime(2026, 11, 27, 6)
    assert extract_moment("latest") is None


def test_email_alert_through_smtp(tmp_path, smtp_sink, caplog):
    caplog.set_level(logging.INFO, logger="subops.alerts")
    s = _settings(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        smtp_security="none",
        smtp_user="alerts",
        smtp_password="pa55-word-xyz",
        smtp_from="subops@example.com",
        alert_email_to="data@example.com, ops@example.com",
    )
    alert = build_finished(
        s,
        {"run_id": "1234abcd-x", "status": "failed", "failure_reason": REASON},
        "http://dagster.example:3000/runs/1234abcd-x",
    )
    assert alert is not None and alert.kind == "failure"
    assert len(smtp_sink.messages) == 1
    mail = email.message_from_string(smtp_sink.messages[0], policy=email.policy.default)
    assert mail["Subject"] == (
        "subops: build run 1234abcd FAILED — the previous warehouse stays published"
    )
    assert mail["From"] == "subops@example.com"
    body = mail.get_content().splitlines()
    assert body[0] == mail["Subject"]
    assert body[1:] == [
        f"cause: {REASON}",
        "look: http://dagster.example:3000/runs/1234abcd-x · subops runs",
    ]
    assert smtp_sink.recipients == ["data@example.com", "ops@example.com"]
    assert smtp_sink.auth and smtp_sink.auth[0].startswith("AUTH PLAIN")
    assert "pa55-word-xyz" not in caplog.text
    assert "alert failure (email)" in caplog.text


def test_an_unreachable_webhook_is_logged_with_its_address_masked(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="subops.alerts")
    url = "http://127.0.0.1:9/services/T0/B0/very-secret-token"  # port 9: nobody listens
    s = _settings(tmp_path, alert_webhook_url=url)
    alert = build_finished(s, {"run_id": "r1", "status": "failed", "failure_reason": REASON})
    assert alert is not None  # decided and remembered, even if not delivered
    assert "alert webhook http://127.0.0.1:9/… failed" in caplog.text
    assert "very-secret-token" not in caplog.text
    assert json.loads(state_path(s).read_text())["last_alert"]["sent"] == []
    assert mask_url("https://hooks.slack.com/services/T/B/x") == "https://hooks.slack.com/…"


def test_the_service_modules_load_no_dagster():
    """The alerting and supervising code is plain Python: the in-process build and the daemon's
    sensors call it, and `subops serve` starts without importing Dagster."""
    code = (
        "import sys\n"
        "import pipelines.service.alerts, pipelines.service.history, pipelines.service.supervise\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dagster_dbt'))\n"
        "assert not bad, bad[:5]\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
