"""The pipeline on Spark (dbt-spark session mode over a local PySpark session): the same marts as
DuckDB to the cent, the dbt unit tests on Spark, and a publication a failed check leaves.

Needs Java 17 and the `spark` extra (pyspark, dbt-spark): without them the module FAILS saying
what to install. One Spark build of the company serves every test (module scope); its cost is in
docs/engines.md, "Spark"."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from engine_builds import (
    Built,
    assert_pages_read_as_on_duckdb,
    assert_same_marts,
    build,
    canonical,
)

from pipelines.dbt_project import dbt_executable
from pipelines.paths import DBT_PROJECT_DIR
from pipelines.targets import RUN_LAYERS

pytestmark = pytest.mark.slow


def _require_spark() -> None:
    """Fail (never skip) with what to install."""
    from pipelines.targets.spark import check_java

    try:
        check_java()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


def test_profile_session_is_the_targets_session():
    """profiles.yml's `spark` output (dbt's session) and `spark_conf` (subops' own Spark
    processes) configure the same session: same metastore, warehouse, heap, decimals."""
    import jinja2
    import yaml

    from pipelines.targets.spark import spark_conf

    env = {"SUBOPS_SPARK_DIR": "/srv/spark", "SUBOPS_SPARK_DRIVER_MEMORY": "3g"}
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    output = profile["subops"]["outputs"]["spark"]
    assert (output["type"], output["method"]) == ("spark", "session")
    render = jinja2.Environment().from_string
    params = {
        k: render(v).render(env_var=lambda name, default=None: env.get(name, default))
        for k, v in output["server_side_parameters"].items()
    }
    assert params == spark_conf(Path("/srv/spark"), "3g")


@pytest.fixture(scope="module")
def spark_build(company: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    _require_spark()
    b = build(company, tmp_path_factory.mktemp("wh-spark"), target="spark")
    assert b.result.published, b.result.failure_reason
    print(f"\nspark build at scale 0.05: {b.seconds:.1f} s")
    return b


def _target(built: Built):
    from pipelines.targets import get_target

    return get_target(built.settings)


def spark_marts(built: Built) -> dict[str, tuple[list, list]]:
    """{mart: (columns, canonical rows)} of the served run, read as the dashboard reads it."""
    target = _target(built)
    con = target.read_connection()
    out = {}
    for name in target.served_tables("marts"):
        cur = con.cursor()
        cur.execute(f"select * from `{name}`")
        out[name] = ([d[0] for d in cur.description], canonical(cur.fetchall()))
    return out


def test_spark_marts_equal_duckdb_marts_row_for_row(spark_build, duckdb_marts):
    got = spark_marts(spark_build)
    assert len(duckdb_marts) >= 20
    assert {"account_health", "model_quality"} <= set(got)  # renewal risk runs there too
    assert_same_marts(duckdb_marts, got, "spark")


def test_the_dashboard_reads_the_served_run_as_from_duckdb(spark_build, duckdb_build, monkeypatch):
    """SUBOPS_DASHBOARD_TARGET=spark: the dashboard reads the served run's Parquet files through
    an in-memory DuckDB (no JVM), every page's queries give the DuckDB build's frames and every
    page renders; the reader cannot read files outside the served run, and a newer publication
    is noticed instead of served stale."""
    import duckdb

    from dashboards.lib import served

    settings = spark_build.settings.model_copy(update={"dashboard_target": "spark"})
    source = served.ServedParquet.from_settings(settings, settings.current_warehouse.resolve())
    assert source.run_tag == _target(spark_build).pointer()["run_tag"]
    env = {"warehouse_dir": settings.warehouse_dir, "dashboard_target": "spark"}
    monkeypatch.setenv("SUBOPS_SPARK_DIR", str(source.folder))
    assert_pages_read_as_on_duckdb(duckdb_build, source, env, monkeypatch)

    con = source.connect("256MB")
    try:
        assert con.sql("select count(*) from marts.kpi_monthly").fetchall()[0][0] > 0
        assert con.sql("select count(*) from audit.runs").fetchall()[0][0] >= 1
        with pytest.raises(duckdb.PermissionException):
            con.sql("select * from read_csv('/etc/passwd')").fetchall()
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
    stale = served.ServedParquet(source.build_file, source.folder, "notserved")
    with pytest.raises(RuntimeError, match="reload the page"):
        stale.connect("256MB")


RUN_DATABASES = RUN_LAYERS  # raw, quarantine, audit, the dbt schemas (seeds: reference)


def test_publication_switched_views_to_the_run(spark_build):
    """Every served layer is views over the published run; only that run's databases remain
    (the first publication has no previous run to keep)."""
    target = _target(spark_build)
    tag = target.pointer()["run_tag"]
    dbs, view, count = target.catalog_sql(
        "show databases",
        "show create table marts.fct_mrr_monthly",
        "select count(*) from marts.fct_mrr_monthly",
    )
    names = {r[0] for r in dbs}
    assert set(RUN_DATABASES) <= names
    assert {d for d in names if d.startswith("run_")} == {f"run_{tag}_{x}" for x in RUN_DATABASES}
    assert f"run_{tag}_marts" in view[0][0]
    assert int(count[0][0]) > 0
    assert target.served_tables("marts") == sorted(target.served_tables("marts"))
    assert "kpi_monthly" in target.served_tables("marts")


def test_dbt_unit_tests_pass_on_spark(spark_build, tmp_path):
    """`dbt test --select test_type:unit --target spark` against the served databases (unit
    tests read their parents' column types from the catalog)."""
    target = _target(spark_build)
    proc = subprocess.run(
        [
            str(dbt_executable()),
            "test",
            "--select",
            "test_type:unit",
            "--target",
            "spark",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        env={
            **os.environ,
            **target.dbt_env(target.pointer()["run_tag"]),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert len(results) >= 10
    assert {r["status"] for r in results} == {"pass"}


def test_a_discarded_run_leaves_the_published_run_served(spark_build, tmp_path):
    """What a build whose check fails does on Spark (its dbt step discards the run; it never
    reaches publish): the run's databases and files go, the published run stays served and
    readable. (The whole failing build is tested on PostgreSQL; on Spark it costs a second
    build, so the target's half is tested here.)"""
    target = _target(spark_build)
    served = target.pointer()
    counts = target.ship(spark_build.settings.current_warehouse.resolve(), "failedrun")
    assert counts["raw.crm__accounts"] > 0
    (dbs,) = target.catalog_sql("show databases")
    assert "run_failedrun_raw" in {r[0] for r in dbs}
    target.discard("failedrun")
    assert target.pointer() == served
    (dbs,) = target.catalog_sql("show databases")
    assert {r[0] for r in dbs if r[0].startswith("run_")} == {
        f"run_{served['run_tag']}_{x}" for x in RUN_DATABASES
    }
    assert not target.raw_dir("failedrun").exists()
    with pytest.raises(RuntimeError, match="published"):
        target.discard(served["run_tag"])
    cur = target.read_connection().cursor()
    assert cur.execute("select count(*) from marts.kpi_monthly").fetchall()[0][0] > 0
    with pytest.raises(RuntimeError, match="read-only"):
        cur.execute("drop table marts.kpi_monthly")
