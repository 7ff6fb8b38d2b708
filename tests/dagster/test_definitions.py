"""The Dagster code location: definitions load, job/schedule/sensor exist, dbt sources map onto
raw assets, the sensor sees new files, and the whole graph materializes."""

from __future__ import annotations

import contextlib

import dagster as dg
import pytest
from landing_fixture import write_clean

from pipelines.contract import TABLES
from pipelines.defs.dbt.assets import SubopsDbtTranslator
from pipelines.defs.ingest.assets import RAW_KEYS, REFERENCES_KEY
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.schedules import NIGHTLY_JOB
from pipelines.defs.warehouse.assets import BUILD_KEY, PUBLISHED_KEY
from pipelines.settings import get_settings
from pipelines.warehouse.readonly import connect_readonly


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from pipelines.definitions import defs as module_defs

    return module_defs


def test_definitions_load_and_validate(defs: dg.Definitions):
    dg.Definitions.validate_loadable(defs)
    jobs = {j.name for j in defs.resolve_all_job_defs()}
    assert NIGHTLY_JOB in jobs
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    assert {BUILD_KEY, PUBLISHED_KEY, REFERENCES_KEY, *RAW_KEYS} <= keys
    groups = {graph.get(k).group_name for k in RAW_KEYS}
    assert groups == {t.source for t in TABLES}
    # publication waits for every other asset
    assert set(graph.get(PUBLISHED_KEY).parent_keys) >= {REFERENCES_KEY, *RAW_KEYS}
    checks = {(c.asset_key, c.name) for c in graph.asset_check_keys}
    for k in RAW_KEYS:
        assert {(k, "contract"), (k, "reconciliation"), (k, "expectations")} <= checks
    # every dbt source that names a contract table is the raw asset itself (no stray keys)
    stray = {k for k in keys if k.path[0] == "raw"} - set(RAW_KEYS)
    assert stray == set()


def test_schedule_and_sensor(defs: dg.Definitions):
    sched = defs.resolve_schedule_def("nightly_build_0200")
    assert sched.cron_schedule == "0 2 * * *"
    assert sched.execution_timezone == get_settings().schedule_timezone
    assert sched.job_name == NIGHTLY_JOB
    sensor = defs.resolve_sensor_def("new_extracts")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert defs.resolve_sensor_def("record_failed_build") is not None
    job = defs.resolve_job_def(NIGHTLY_JOB)
    assert job.tags.get("subops/writer") == "warehouse"


def test_translator_maps_contract_sources():
    tr = SubopsDbtTranslator()
    for t in TABLES:
        props = {
            "resource_type": "source",
            "source_name": t.source,
            "name": t.name,
            "identifier": t.raw_table,
            "fqn": ["subops", t.source, t.name],
        }
        assert tr.get_asset_key(props) == dg.AssetKey(["raw", t.raw_table])


def test_sensor_requests_a_run_for_new_files(defs: dg.Definitions, tmp_path):
    sensor = defs.resolve_sensor_def("new_extracts")
    wh = WarehouseResource.from_settings(
        get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")
    )
    empty = sensor(dg.build_sensor_context(resources={"warehouse": wh}))
    assert isinstance(empty, dg.SkipReason)
    write_clean(tmp_path / "landing")
    req = sensor(dg.build_sensor_context(resources={"warehouse": wh}))
    assert isinstance(req, dg.RunRequest) and req.run_key.startswith("extracts-")


@pytest.mark.slow
def test_materialize_whole_graph_publishes_clean_folder(tmp_path):
    from pipelines.definitions import build_definitions

    s = get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")
    write_clean(s.landing_dir)
    local = build_definitions(s)
    assets = list(local.assets or [])
    res = dg.materialize(
        assets,
        resources=dict(local.resources or {}),
        run_config={"ops": {"warehouse__build": {"config": {"full_refresh": True}}}},
    )
    assert res.success
    with contextlib.closing(connect_readonly(s.current_warehouse)) as con:
        assert con.execute("SELECT count(*) FROM quarantine.rows").fetchall() == [(0,)]
        assert con.execute(
            "SELECT sum(rows_loaded) = sum(rows_read) FROM audit.load_log"
        ).fetchall() == [(True,)]
        for t in TABLES:
            n = con.execute(f"SELECT count(*) FROM raw.{t.raw_table}").fetchall()[0][0]
            assert n > 0, t.qualified_name
        assert con.execute("SELECT status FROM audit.runs").fetchall() == [("published",)]
