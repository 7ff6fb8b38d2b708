"""The daemon's side, through Dagster's testing helpers: the nightly schedule and the
new-extracts sensor start RUNNING when enabled and request the nightly build; the build they
request runs and publishes; the run-status sensors record daemon runs in runs.jsonl and alert
(failure, then recovery with too much quarantine); the freshness sensor reports stale sources.
One real build of the hand-made landing folder, shared by the module, with dbt left out of the
graph as in tests/dagster/test_shell_project.py: loading, checks and publication run, the marts
are tested elsewhere, and the module takes seconds instead of a minute."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
from landing_fixture import DAYS, clean_rows, write_extract, write_with_bad_rows
from service_helpers import Inbox
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.schedules import NIGHTLY_JOB, failed_build_sensor, published_build_sensor
from pipelines.settings import Settings, get_settings

pytestmark = pytest.mark.slow
DAGSTER_URL = "http://dagster.example:3000"


@dataclass
class Night:
    settings: Settings
    defs: dg.Definitions
    instance: dg.DagsterInstance
    inbox: Inbox
    schedule_request: dg.RunRequest | None = None
    sensor_request: dg.RunRequest | None = None
    failed: dg.ExecuteInProcessResult | None = None
    built: dg.ExecuteInProcessResult | None = None
    messages: list[str] = field(default_factory=list)


def _resources(s: Settings) -> dict[str, object]:
    return {"warehouse": WarehouseResource.from_settings(s)}


def _status_context(night: Night, res: dg.ExecuteInProcessResult, name: str, event):  # type: ignore[no-untyped-def]
    return dg.build_run_status_sensor_context(
        sensor_name=name,
        dagster_instance=night.instance,
        dagster_run=res.dagster_run,
        dagster_event=event,
        resources=_resources(night.settings),
    )


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, module_webhook: Inbox) -> Iterator[Night]:
    import pipelines.definitions as definitions

    root = tmp_path_factory.mktemp("night")
    mp = pytest.MonkeyPatch()
    mp.setattr(definitions, "build_dbt_assets", lambda: [])
    # the sensors read secrets from the environment (never from Dagster's resource config)
    mp.setenv("SUBOPS_ALERT_WEBHOOK_URL", module_webhook.url)
    s = get_settings(
        landing_dir=root / "landing",
        warehouse_dir=root / "wh",
        schedule_enabled=True,
        sensor_enabled=True,
        dagster_url=DAGSTER_URL,
    )
    write_with_bad_rows(s.landing_dir)
    night = Night(
        s, definitions.build_definitions(s), dg.DagsterInstance.ephemeral(), module_webhook
    )

    # a tick of the schedule, and the sensor seeing the new landing files
    schedule = night.defs.resolve_schedule_def("nightly_build_0200")
    tick = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 1, 3, 2, 0, tzinfo=dt.UTC)
    )
    requests = schedule.evaluate_tick(tick).run_requests or []
    night.schedule_request = requests[0] if requests else None
    sensor = night.defs.resolve_sensor_def("new_extracts")
    got = sensor(dg.build_sensor_context(resources=_resources(s)))
    night.sensor_request = got if isinstance(got, dg.RunRequest) else None

    # a night that failed (a daemon run of the job that breaks early) ...
    @dg.op
    def load_accounts() -> None:
        raise ValueError("the extract is broken")

    night.failed = (
        dg.GraphDefinition("g", node_defs=[load_accounts])
        .to_job(NIGHTLY_JOB)
        .execute_in_process(instance=night.instance, raise_on_error=False)
    )
    ctx = _status_context(
        night, night.failed, "record_failed_build", night.failed.get_run_failure_event()
    ).for_run_failure()
    failed_build_sensor(ctx)

    # ... then the run the schedule requested, as the daemon would launch it
    job = night.defs.resolve_job_def(NIGHTLY_JOB)
    assert night.schedule_request is not None
    night.built = job.execute_in_process(
        instance=night.instance,
        tags=dict(night.schedule_request.tags),
        run_config=night.schedule_request.run_config or None,
        raise_on_error=False,
    )
    published_build_sensor(
        _status_context(
            night, night.built, "record_published_build", night.built.get_run_success_event()
        )
    )
    night.messages = list(module_webhook.wait(2))
    yield night
    mp.undo()


def test_enabled_schedule_and_sensor_start_running_and_request_the_nightly_build(night: Night):
    schedule = night.defs.resolve_schedule_def("nightly_build_0200")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == night.settings.schedule_timezone
    assert night.schedule_request is not None and schedule.job_name == NIGHTLY_JOB
    sensor = night.defs.resolve_sensor_def("new_extracts")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert night.sensor_request is not None
    assert night.sensor_request.run_key and night.sensor_request.run_key.startswith("extracts-")
    assert night.sensor_request.tags["subops/new_files"] == "34"
    from pipelines.definitions import build_definitions

    off = build_definitions(night.settings.model_copy(update={"schedule_enabled": False}))
    assert off.resolve_schedule_def("nightly_build_0200").default_status == (
        dg.DefaultScheduleStatus.STOPPED
    )


def test_the_requested_build_runs_and_publishes(night: Night):
    assert night.built is not None and night.built.success
    current = night.settings.current_warehouse
    assert current.exists() and current.resolve().parent == night.settings.builds_dir
    # the sensor sees nothing new any more; a new extract is a new request
    sensor = night.defs.resolve_sensor_def("new_extracts")
    ctx = dg.build_sensor_context(resources=_resources(night.settings))
    assert isinstance(sensor(ctx), dg.SkipReason)
    write_extract(night.settings.landing_dir, DAYS[2], clean_rows(DAYS[2], 2))
    again = sensor(dg.build_sensor_context(resources=_resources(night.settings)))
    assert isinstance(again, dg.RunRequest) and again.run_key != night.sensor_request.run_key  # type: ignore[union-attr]


def test_daemon_runs_alert_failure_then_recovery_and_are_in_runs_jsonl(night: Night):
    assert len(night.messages) == 2, night.messages
    failure, recovery = (m.splitlines() for m in night.messages)
    assert failure[0] == (
        f"subops: build run {night.failed.run_id[:8]} FAILED — the previous warehouse stays "  # type: ignore[union-attr]
        "published"
    )
    assert failure[1] == (
        "cause: step load_accounts failed: ValueError: the extract is broken — the trace is in "
        "the log"
    )
    assert failure[2] == f"look: {DAGSTER_URL}/runs/{night.failed.run_id} · subops runs"  # type: ignore[union-attr]
    build = night.settings.current_warehouse.resolve().stem
    assert recovery[0] == f"subops: build {build} published (as of 2026-01-02) — recovered"
    assert recovery[1].startswith("cause: published after 1 failed build since ")
    assert recovery[2].startswith("also: ") and "rows read were quarantined" in recovery[2]
    assert recovery[3] == f"look: {DAGSTER_URL}/runs/{night.built.run_id} · subops runs"  # type: ignore[union-attr]
    log = night.settings.warehouse_dir / "logs" / "runs.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["status"] for r in records] == ["failed", "published"]
    assert {r["launched_by"] for r in records} == {"dagster-daemon"}
    pub = records[1]
    assert pub["warehouse_version"] == 1 and pub["rows_loaded"] == 44 and pub["rows_quarantined"]
    assert pub["started_at"] and pub["finished_at"] and pub["run_url"].startswith(DAGSTER_URL)


def test_runs_lists_the_daemon_builds(night: Night):
    result = CliRunner().invoke(
        app,
        ["runs", "--warehouse-dir", str(night.settings.warehouse_dir)],
        env={"COLUMNS": "220"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("published v1" in ln and "2026-01-02" in ln and " 44 " in ln for ln in lines)
    assert any("failed" in ln and "step load_accounts failed" in ln for ln in lines)


def test_freshness_sensor_reports_stale_sources_once(night: Night):
    sensor = night.defs.resolve_sensor_def("source_freshness")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING  # SUBOPS_ALERT_STALE_HOURS=36
    ctx = dg.build_sensor_context(resources=_resources(night.settings))
    first = sensor(ctx)
    assert isinstance(first, dg.SkipReason) and "no new extract from" in (first.skip_message or "")
    second = sensor(dg.build_sensor_context(resources=_resources(night.settings)))
    assert isinstance(second, dg.SkipReason) and second.skip_message == "no new freshness alert"
    msgs = night.inbox.wait(3)
    assert len(msgs) == 3 and msgs[2].startswith("subops: no new extract from billing, ")


def test_a_canceled_daemon_run_is_recorded_and_alerts(tmp_path: Path, webhook: Inbox, monkeypatch):
    from pipelines.defs.schedules import CANCELED_REASON, canceled_build_sensor

    monkeypatch.setenv("SUBOPS_ALERT_WEBHOOK_URL", webhook.url)
    s = get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")

    @dg.op
    def load_accounts() -> None:
        pass

    instance = dg.DagsterInstance.ephemeral()
    res = (
        dg.GraphDefinition("g", node_defs=[load_accounts])
        .to_job(NIGHTLY_JOB)
        .execute_in_process(instance=instance)
    )
    instance.report_run_canceled(res.dagster_run)
    event = instance.all_logs(res.run_id, of_type=dg.DagsterEventType.RUN_CANCELED)[0]
    ctx = dg.build_run_status_sensor_context(
        sensor_name="record_canceled_build",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(res.run_id),
        dagster_event=event.dagster_event,
        resources=_resources(s),
    )
    canceled_build_sensor(ctx)
    msg = webhook.wait(1)[0].splitlines()
    assert msg[0].endswith("FAILED — the previous warehouse stays published")
    assert msg[1] == f"cause: {CANCELED_REASON}"
    rec = json.loads((s.warehouse_dir / "logs" / "runs.jsonl").read_text().splitlines()[-1])
    assert rec["run_id"] == res.run_id and rec["status"] == "failed"
