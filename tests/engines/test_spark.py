"""The pipeline on Spark (dbt-spark session mode over a local PySpark session): the same marts as
DuckDB to the cent, the dbt unit tests on Spark, and a publication a failed check leaves.

Needs Java 17 and the `spark` extra (pyspark, dbt-spark): without them the module FAILS saying
what to install. One Spark build of the company serves every test (module scope); its cost is in
docs/engines-spark.md."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from engine_builds import Built, assert_same_marts, build, canonical

from pipelines.dbt_project import dbt_executable
from pipelines.paths import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow


def _require_spark() -> None:
    """Fail (never skip) with what to install."""
    from pipelines.targets.spark import check_java

    try:
        check_java()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def spark_settings(tmp_path_factory: pytest.TempPathFactory) -> dict:
    _require_spark()
    return {"target": "spark"}


@pytest.fixture(scope="module")
def spark_build(company: Path, spark_settings: dict, tmp_path_factory) -> Built:
    b = build(company, tmp_path_factory.mktemp("wh-spark"), **spark_settings)
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
    assert_same_marts(duckdb_marts, got, "spark")


def test_publication_switched_views_and_kept_one_run(spark_build):
    """Every served layer's views read the published run; only its databases remain (plus none
    older: this is the first publication)."""
    target = _target(spark_build)
    pointer = target.pointer()
    tag = pointer["run_tag"]
    dbs = {r[0] for r in target._child("sql", sql="show databases")["rows"]}
    assert {"raw", "staging", "intermediate", "marts", "semantic", f"run_{tag}_marts"} <= dbs
    assert {d for d in dbs if d.startswith("run_")} == {
        f"run_{tag}_{x}" for x in ("raw", "staging", "intermediate", "marts", "semantic")
    }
    view = target._child("sql", sql="show create table marts.fct_mrr_monthly")["rows"][0][0]
    assert f"run_{tag}_marts" in view
    n = target._child("sql", sql="select count(*) from marts.fct_mrr_monthly")["rows"][0][0]
    assert int(n) > 0


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


def test_a_failed_check_on_spark_leaves_the_published_run_served(
    spark_build, company, monkeypatch
):
    """A rebuild whose shipped data breaks a dbt data test (a duplicated account) is not
    published: published.json and the views still name the previous run, whose marts are
    unchanged, and the failed run's databases and files are dropped."""
    from pipelines.targets.spark import SparkTarget

    target = _target(spark_build)
    before_tag = target.pointer()["run_tag"]
    ship = SparkTarget.ship

    def ship_a_duplicate(self, build_file, run_tag):
        counts = ship(self, build_file, run_tag)
        accounts = self.raw_dir(run_tag) / "crm__accounts"
        shutil.copy(accounts / "data.parquet", accounts / "copy.parquet")
        return counts

    monkeypatch.setattr(SparkTarget, "ship", ship_a_duplicate)
    again = build(company, spark_build.settings.warehouse_dir, full_refresh=True, target="spark")
    assert not again.result.published
    assert "dbt" in (again.result.failure_reason or ""), again.result.failure_reason
    assert target.pointer()["run_tag"] == before_tag
    dbs = {r[0] for r in target._child("sql", sql="show databases")["rows"]}
    assert {d for d in dbs if d.startswith("run_")} == {
        f"run_{before_tag}_{x}" for x in ("raw", "staging", "intermediate", "marts", "semantic")
    }
    assert [p.name for p in (target.folder / "raw").iterdir()] == [before_tag]
