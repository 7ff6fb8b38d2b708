"""The pipeline on a real PostgreSQL 15 server (a throwaway cluster: conftest.pg_cluster): the
same marts as DuckDB to the cent, the dbt unit tests, and a publication a failed check leaves."""

from __future__ import annotations

import contextlib
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
    marts_of,
)

from pipelines.dbt_project import dbt_executable
from pipelines.paths import DBT_PROJECT_DIR
from pipelines.targets import RUN_LAYERS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_build(company: Path, pg_cluster, tmp_path_factory: pytest.TempPathFactory) -> Built:
    b = build(company, tmp_path_factory.mktemp("wh-postgres"), **pg_cluster.settings())
    assert b.result.published, b.result.failure_reason
    print(f"\npostgres build at scale 0.05: {b.seconds:.1f} s")
    return b


def _served_marts(pg_cluster, user: str | None = None) -> dict:
    with contextlib.closing(pg_cluster.connect(user)) as con:
        return marts_of(con)


def test_postgres_marts_equal_duckdb_marts_row_for_row(pg_build, pg_cluster, duckdb_marts):
    got = _served_marts(pg_cluster)
    assert len(duckdb_marts) >= 20
    assert {"account_health", "model_quality"} <= set(got)  # renewal risk runs there too
    assert_same_marts(duckdb_marts, got, "postgres")


def test_only_the_served_schemas_remain_and_the_reader_may_only_read(pg_build, pg_cluster):
    from pipelines.targets import get_target

    with contextlib.closing(pg_cluster.connect()) as con:
        schemas = {r[0] for r in con.execute("select nspname from pg_namespace").fetchall()}
    assert set(RUN_LAYERS) <= schemas  # raw, quarantine, audit, staging, …, marts, reference
    assert not [s for s in schemas if s.startswith(("run_", "old_"))]
    target = get_target(pg_build.settings)
    with contextlib.closing(target.read_connection()) as ro:
        n = ro.execute("select count(*) from fct_mrr_monthly").fetchall()[0][0]  # search_path
        assert n > 0
        with pytest.raises(Exception, match=r"read-only|permission denied"):
            ro.execute("create table marts.x (i int)")


def test_dbt_unit_tests_pass_on_postgres(pg_build, pg_cluster, tmp_path):
    """`dbt test --select test_type:unit --target postgres` against the served schemas (unit
    tests read their parents' column types from the database)."""
    s = pg_build.settings
    dbt_vars = {
        "pg_host": s.pg_host,
        "pg_port": str(s.pg_port),
        "pg_user": s.pg_user,
        "pg_dbname": s.pg_dbname,
    }
    proc = subprocess.run(
        [
            str(dbt_executable()),
            "test",
            "--select",
            "test_type:unit",
            "--target",
            "postgres",
            "--vars",
            json.dumps(dbt_vars),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert len(results) >= 10
    assert {r["status"] for r in results} == {"pass"}


def test_a_failed_check_on_postgres_leaves_the_published_schemas_served(
    pg_build, pg_cluster, company, monkeypatch
):
    """A rebuild whose shipped data breaks a dbt data test (a duplicated account) is not
    published: the served marts are the previous ones, and the run's schemas are dropped."""
    from pipelines.targets.postgres import PostgresTarget

    before = _served_marts(pg_cluster)
    ship = PostgresTarget.ship

    def ship_a_duplicate(self, build_file, run_tag):
        counts = ship(self, build_file, run_tag)
        with self.connect() as pg:
            pg.execute(
                f'insert into "run_{run_tag}_raw".crm__accounts '
                f'select * from "run_{run_tag}_raw".crm__accounts limit 1'
            )
        return counts

    monkeypatch.setattr(PostgresTarget, "ship", ship_a_duplicate)
    warehouse = pg_build.settings.warehouse_dir
    again = build(company, warehouse, full_refresh=True, **pg_cluster.settings())
    assert not again.result.published
    assert "dbt" in (again.result.failure_reason or ""), again.result.failure_reason
    assert _served_marts(pg_cluster) == before
    with contextlib.closing(pg_cluster.connect()) as con:
        schemas = [r[0] for r in con.execute("select nspname from pg_namespace").fetchall()]
    assert not [s for s in schemas if s.startswith(("run_", "old_"))]


def test_subops_sql_reads_the_served_marts_as_the_reader(pg_build, pg_cluster, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    for name, value in pg_cluster.settings().items():
        monkeypatch.setenv(f"SUBOPS_{name.upper()}", str(value))
    runner = CliRunner()
    ok = runner.invoke(app, ["sql", "--csv", "select count(*) as n from dim_accounts"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[0] == "n" and int(ok.output.splitlines()[1]) > 0
    refused = runner.invoke(app, ["sql", "delete from marts.dim_accounts"])
    assert refused.exit_code == 1


def test_the_dashboard_reads_the_marts_from_postgres_as_from_duckdb(
    pg_build, pg_cluster, duckdb_build, monkeypatch
):
    """Every page's queries (recorded on a render of the DuckDB build: dashboards/timing.py),
    replayed on the marts PostgreSQL serves — as the read-only role, every value bound — give
    the same frames; then every page renders with SUBOPS_DASHBOARD_TARGET=postgres without an
    error. Queries of the audit trail read the published DuckDB file on both (not compared:
    two builds, two run ids)."""
    from dashboards.lib import served

    settings = pg_build.settings.model_copy(update={"dashboard_target": "postgres"})
    source = served.ServedMarts.from_settings(settings, settings.current_warehouse.resolve())
    env = {
        "warehouse_dir": settings.warehouse_dir,
        "dashboard_target": "postgres",
        "pg_host": settings.pg_host,
        "pg_port": settings.pg_port,
        "pg_dbname": settings.pg_dbname,
    }
    assert_pages_read_as_on_duckdb(duckdb_build, source, env, monkeypatch)
