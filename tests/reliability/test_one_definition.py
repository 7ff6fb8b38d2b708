"""Each fact once (issue 10): one dbt project folder, one way to prepare the manifest, one as-of
resolution, defaults only in `Settings`, the build file named to dbt explicitly, and dbt test
results that are recorded or fail the step. Fast: no build runs here."""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import functools
import os
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
import yaml
from landing_fixture import write_clean

import pipelines.dbt_project as dbt_project
from pipelines.dbt_project import DUCKDB_PATH_VAR, MANIFEST, build_vars, dbt_vars
from pipelines.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from pipelines.settings import Settings, get_settings
from pipelines.warehouse.audit import DBT_TEST_SKIPPED, record_dbt_tests
from pipelines.warehouse.pending import resolve_as_of, today_utc
from pipelines.warehouse.publish import prepare_build
from pipelines.warehouse.readonly import connect_readonly

PIPELINES = PROJECT_ROOT / "pipelines"
RUN = "0ddba11e-0000-4000-8000-000000000010"


@functools.cache
def sources() -> dict[str, ast.Module]:
    return {
        p.relative_to(PROJECT_ROOT).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(PIPELINES.rglob("*.py"))
    }


def defaults() -> Settings:
    """Settings at their declared defaults (no environment, no subops.toml)."""
    return Settings.model_construct()


# --- one dbt project folder, one manifest ------------------------------------------------------


def test_the_dbt_project_folder_is_defined_once():
    defined = [
        f
        for f, tree in sources().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "DBT_PROJECT_DIR" for t in node.targets)
    ]
    assert defined == ["pipelines/paths.py"]
    assert DBT_PROJECT_DIR == PROJECT_ROOT / "dbt_project"
    from pipelines.defs.dbt.project import subops_dbt

    assert Path(subops_dbt.manifest_path) == MANIFEST


def test_dbt_is_parsed_in_one_place_and_make_manifest_calls_it():
    parsing = sorted(
        f
        for f, tree in sources().items()
        if any(isinstance(n, ast.Constant) and n.value == "parse" for n in ast.walk(tree))
    )
    assert parsing == ["pipelines/dbt_project.py"]
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    recipe = re.search(r"^manifest:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe and "-m pipelines.dbt_project" in recipe.group(1)
    assert "dbt parse" not in recipe.group(1)


def test_the_manifest_is_stale_once_a_dbt_file_is_added_or_removed(tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    models = project / "models"
    models.mkdir(parents=True)
    model = models / "a.sql"
    model.write_text("select 1")
    manifest = project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    monkeypatch.setattr(dbt_project, "DBT_PROJECT_DIR", project)
    monkeypatch.setattr(dbt_project, "MANIFEST", manifest)
    for p in (project, models, model):
        os.utime(p, (1_000, 1_000))
    os.utime(manifest, (2_000, 2_000))
    assert dbt_project.manifest_is_fresh()
    model.unlink()  # the folder's mtime moves: a deleted model must not stay in the manifest
    assert not dbt_project.manifest_is_fresh()


# --- defaults live in Settings -----------------------------------------------------------------


def test_dbt_project_vars_are_the_build_vars_with_the_settings_defaults():
    """dbt_project.yml's vars serve dbt run by hand; the build passes every one of them, and
    their values there must not disagree with the settings' defaults."""
    declared = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    passed = dbt_vars(defaults(), dt.date(2026, 10, 31))
    assert set(declared) == set(passed)
    for name, value in passed.items():
        if name != "as_of_date":  # Settings: the latest extract; dbt by hand: a fixed date
            assert str(declared[name]) == value, name


def test_the_warehouse_resource_mirrors_settings_and_keeps_no_defaults(tmp_path):
    from pipelines.defs.resources import WarehouseResource

    fields = WarehouseResource.model_fields
    assert set(fields) <= set(Settings.model_fields)
    assert [n for n, f in fields.items() if not f.is_required()] == []
    s = get_settings(
        landing_dir=tmp_path / "landing",
        warehouse_dir=tmp_path / "wh",
        as_of_date=dt.date(2026, 3, 1),
        support_cost_per_minute=Decimal("1.2345"),
        services_cost_per_hour=Decimal("101.10"),
        keep_builds=5,
        confirm_deletions=True,
        fx_max_rate_age_days=3,
    )
    back = WarehouseResource.from_settings(s).settings()
    for name in fields:
        assert getattr(back, name) == getattr(s, name), name
    assert back.support_cost_per_minute == Decimal("1.2345")
    assert isinstance(back.support_cost_per_minute, Decimal)


# --- one as-of date ------------------------------------------------------------------------------


def test_the_as_of_date_is_asked_then_set_then_the_latest_accepted_extract_then_today(tmp_path):
    landing = write_clean(tmp_path / "landing")  # extracts of 2026-01-01 and 2026-01-02
    future = landing / "billing" / "payments" / "2099-01-01.csv"
    future.write_text((landing / "billing" / "payments" / "2026-01-02.csv").read_text())
    s = get_settings(landing_dir=landing, warehouse_dir=tmp_path / "wh")
    assert resolve_as_of(s) == dt.date(2026, 1, 2)  # the refused future extract does not count
    pinned = s.model_copy(update={"as_of_date": dt.date(2026, 3, 1)})
    assert resolve_as_of(pinned) == dt.date(2026, 3, 1)
    assert resolve_as_of(pinned, dt.date(2026, 2, 1)) == dt.date(2026, 2, 1)
    empty = get_settings(landing_dir=tmp_path / "none", warehouse_dir=tmp_path / "wh")
    (tmp_path / "none").mkdir()
    assert resolve_as_of(empty) == today_utc()


def test_as_of_is_resolved_in_one_place():
    callers = sorted(
        f
        for f, tree in sources().items()
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and n.attr == "latest_extract_date"
        and f != "pipelines/ingest/landing.py"  # where a scan's latest date is defined
    )
    assert callers == ["pipelines/warehouse/pending.py"]


# --- the build file reaches dbt in its arguments -----------------------------------------------


def _changes_environ(n: ast.AST) -> bool:
    if isinstance(n, ast.Assign | ast.AugAssign | ast.Delete):
        targets = [n.target] if isinstance(n, ast.AugAssign) else n.targets
        return any(
            isinstance(t, ast.Subscript) and ast.unparse(t.value).endswith("environ")
            for t in targets
        )
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
        owner, attr = ast.unparse(n.func.value), n.func.attr
        return (
            owner.endswith("environ")
            and attr in {"update", "setdefault", "pop", "popitem", "clear", "__setitem__"}
        ) or (owner == "os" and attr in {"putenv", "unsetenv"})
    return False


def test_no_module_below_the_cli_changes_the_process_environment():
    """A step that sets os.environ leaks into every later step and build of the process."""
    allowed = {
        "pipelines/cli.py",  # the command line sets DAGSTER_HOME for its own process
        "pipelines/ingest/expectations.py",  # GX's telemetry opt-out: GX reads it from the env
        # a server target's dbt_env, set around its dbt invocation and restored (dagster-dbt
        # gives dbt the process's environment only)
        "pipelines/defs/dbt/assets.py",
    }
    found = [
        f"{f}:{n.lineno}"
        for f, tree in sources().items()
        if f not in allowed
        for n in ast.walk(tree)
        if _changes_environ(n)
    ]
    assert found == []
    assert _changes_environ(ast.parse('os.environ["X"] = "1"').body[0])
    assert _changes_environ(ast.parse("os.environ.update(x)").body[0].value)


def test_the_build_names_its_file_to_dbt_in_the_invocation(tmp_path):
    path = tmp_path / "b.duckdb"
    v = build_vars(defaults(), dt.date(2026, 1, 2), path)
    assert v[DUCKDB_PATH_VAR] == str(path)
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    assert f"var('{DUCKDB_PATH_VAR}'" in profile["subops"]["outputs"]["duckdb"]["path"]


# --- dbt test results are recorded, or the step fails -----------------------------------------


RESULTS = {
    "results": [
        {"unique_id": "test.subops.not_null_x", "status": "pass"},
        {"unique_id": "test.subops.unique_y", "status": "fail"},
        {"unique_id": "unit_test.subops.m.t", "status": "skipped"},
        {"unique_id": "model.subops.m", "status": "success"},
    ]
}


def test_dbt_tests_are_recorded_as_checks(tmp_path):
    s = get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")
    path = prepare_build(s, RUN, full_refresh=True, as_of=dt.date(2026, 1, 2))
    assert record_dbt_tests(path, RUN, RESULTS) == 3
    with contextlib.closing(connect_readonly(path)) as con:
        rows = con.execute(
            "SELECT check_name, passed, blocking, description FROM audit.check_results "
            "WHERE run_id = $r ORDER BY 1",
            {"r": RUN},
        ).fetchall()
    assert rows == [
        ("test.subops.not_null_x", True, False, "dbt test pass"),
        ("test.subops.unique_y", False, True, "dbt test fail"),
        ("unit_test.subops.m.t", False, False, DBT_TEST_SKIPPED),
    ]


class _Log:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def exception(self, msg: str) -> None:
        self.errors.append(msg)

    warning = error = exception


def test_dbt_test_results_that_cannot_be_written_fail_the_step(tmp_path):
    from pipelines.defs.dbt.assets import _record_tests

    broken = tmp_path / "broken.duckdb"
    broken.write_text("not a database")
    with pytest.raises(duckdb.Error):
        record_dbt_tests(broken, RUN, RESULTS)
    log = _Log()
    ctx = SimpleNamespace(run_id=RUN, log=log)
    err = _record_tests(ctx, broken, RESULTS)  # type: ignore[arg-type]
    assert isinstance(err, duckdb.Error)
    assert log.errors == ["recording the dbt test results failed"]
    assert _record_tests(ctx, broken, None) is None  # dbt wrote none: its own failure says why


# --- one way to record a failed build: in-process runs and the daemon's sensor -----------------


def test_the_failed_build_sensor_records_the_reason_in_the_kept_build(tmp_path):
    import dagster as dg

    from pipelines.defs.resources import WarehouseResource
    from pipelines.defs.schedules import failed_build_sensor

    @dg.op
    def load_accounts() -> None:
        raise ValueError("the extract is broken")

    instance = dg.DagsterInstance.ephemeral()
    res = (
        dg.GraphDefinition("g", node_defs=[load_accounts])
        .to_job("nightly_build")
        .execute_in_process(instance=instance, raise_on_error=False)
    )
    s = get_settings(
        landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh", keep_failed_builds=True
    )
    path = prepare_build(s, res.run_id, full_refresh=True, as_of=dt.date(2026, 1, 2))
    ctx = dg.build_run_status_sensor_context(
        sensor_name="record_failed_build",
        dagster_instance=instance,
        dagster_run=res.dagster_run,
        dagster_event=res.get_run_failure_event(),
        resources={"warehouse": WarehouseResource.from_settings(s)},
    ).for_run_failure()
    failed_build_sensor(ctx)
    with contextlib.closing(connect_readonly(path)) as con:
        rows = con.execute("SELECT status, failure_reason FROM audit.runs").fetchall()
    assert len(rows) == 1 and rows[0][0] == "failed"
    assert "step load_accounts failed: ValueError: the extract is broken" in rows[0][1]
