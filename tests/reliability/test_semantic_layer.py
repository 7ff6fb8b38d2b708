"""The semantic layer (dbt semantic models + MetricFlow, `subops metrics`): the metrics defined in
dbt_project/models/semantic/ give, through MetricFlow, exactly what the marts hold, sliced by the
account and plan attributes, read-only from the published warehouse."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.settings import DBT_PROJECT_DIR
from pipelines.warehouse.semantic import (
    UNITS,
    SemanticLayerError,
    list_metrics,
    load_semantic_manifest,
    query_metrics,
    semantic_manifest_path,
)

AS_OF = "2026-06-30"  # 18 months of history: trailing-12 NRR and GRR are defined from 2026-01
#: The metrics the issue asks for, and the kpi_monthly column each must equal month by month.
KPI_COLUMNS = {
    "mrr": "mrr_usd",
    "arr": "arr_usd",
    "net_new_mrr": "net_new_mrr_usd",
    "recognized_revenue": "revenue_usd",
    "billings": "billings_usd",
    "deferred_revenue": "deferred_revenue_usd",
    "logo_churn_rate": "logo_churn_rate",
    "nrr": "nrr_t12",
    "grr": "grr_t12",
    "active_customers": "active_accounts",
}
CORE_METRICS = {*KPI_COLUMNS, "arpa"}
runner = CliRunner()


def _make_dev_db() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_dev_db", DBT_PROJECT_DIR / "scripts" / "make_dev_db.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The hand-made company of make_dev_db (10 accounts; USD, EUR, a currency without any rate
    and one whose first rate comes late), `dbt run` (models only: their tests run elsewhere)
    into a published layout whose build file is not named like the dbt profile's database.
    Returns the warehouse folder and the semantic manifest that run wrote."""
    root = tmp_path_factory.mktemp("semantic")
    wh = root / "wh"
    build = wh / "builds" / "20251231T000000Z-5e3a471c.duckdb"
    build.parent.mkdir(parents=True)
    _make_dev_db().build_dev_db(build)
    env = {
        **os.environ,
        "SUBOPS_DBT_DUCKDB_PATH": str(build),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [
            # build, not run: the models read a seed (accepted vendor families); no tests here
            str(Path(sys.executable).with_name("dbt")), "build", "--quiet",
            "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
            "--vars", f'{{as_of_date: "{AS_OF}"}}',
            "--target-path", str(root / "target"), "--log-path", str(root / "logs"),
        ],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    (wh / "current.duckdb").symlink_to(os.path.relpath(build, wh))
    return wh, load_semantic_manifest(root / "target" / "semantic_manifest.json")


def _marts(wh: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(wh / "current.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _by_month(columns: list[str], rows: list[tuple]) -> dict[str, dict[Any, Any]]:
    """{metric: {month: value}} of a query grouped by month only."""
    return {c: {r[0]: r[i] for r in rows} for i, c in enumerate(columns) if i}


# --- definitions ---------------------------------------------------------------------------------


def test_dbt_parse_accepts_the_semantic_models_and_metricflow_validates_them():
    """`dbt parse` (dbt-core 1.11) writes the semantic manifest; MetricFlow's own validation
    finds nothing to object to; every metric the issue names is there, with a unit."""
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import (
        SemanticManifestValidator,
    )

    manifest = load_semantic_manifest(semantic_manifest_path())
    issues = SemanticManifestValidator().validate_semantic_manifest(manifest)
    assert not issues.has_blocking_issues, [str(i) for i in issues.all_issues]
    infos = {m.name: m for m in list_metrics(manifest)}
    assert set(infos) >= CORE_METRICS
    assert all(i.unit in UNITS for i in infos.values()), infos
    spines = manifest.project_configuration.time_spines
    assert [s.node_relation.alias for s in spines] == ["metricflow_time_spine"]
    # tables are read as <schema>.<table>: the published file's catalog is the build's name
    assert all(sm.node_relation.database is None for sm in manifest.semantic_models)


@pytest.mark.parametrize(
    "command", ["metrics", "metrics query", "metrics list", "metrics dimensions"]
)
def test_metrics_commands_document_themselves_with_examples(command):
    result = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output and f"subops {command}" in result.output


# --- answers against a built warehouse --------------------------------------------------------


@pytest.mark.slow
def test_mrr_by_month_equals_fct_mrr_monthly(built):
    """The acceptance check: MRR by month through the semantic layer = Σ fct_mrr_monthly.mrr_usd
    over accounts, every month, to the last decimal (accounts without an FX rate excluded)."""
    wh, manifest = built
    result = query_metrics(wh / "current.duckdb", ["mrr"], ["month"], manifest=manifest)
    assert result.columns == ["month", "mrr"]
    expected = _marts(
        wh, "select month, sum(mrr_usd) from marts.fct_mrr_monthly group by month order by month"
    )
    assert result.rows == expected
    assert len(expected) >= 12 and all(isinstance(v, Decimal) for _, v in expected if v)


@pytest.mark.slow
def test_mrr_by_product_family_adds_up_to_mrr(built):
    """MRR sliced by product family and plan (the plan-grain mart) sums to MRR every month."""
    wh, manifest = built
    path = wh / "current.duckdb"
    total = dict(query_metrics(path, ["mrr"], ["month"], manifest=manifest).rows)
    by_family = query_metrics(path, ["mrr_by_plan"], ["month", "product_family"], manifest=manifest)
    assert by_family.columns == ["month", "product_family", "mrr_by_plan"]
    sums: dict = {}
    for month, family, mrr in by_family.rows:
        assert family, month
        sums[month] = sums.get(month, 0) + (mrr or 0)
    assert {m: v for m, v in total.items() if v} == {m: v for m, v in sums.items() if v}
    assert len({f for _, f, _ in by_family.rows}) >= 2


@pytest.mark.slow
def test_every_core_metric_equals_the_executive_mart(built):
    """MRR, ARR, net new MRR, revenue, billings, deferred revenue, logo churn, NRR, GRR and
    active customers equal kpi_monthly month by month (ratios exactly: same rounding); ARPA is
    MRR / active customers to the cent."""
    wh, manifest = built
    result = query_metrics(
        wh / "current.duckdb", [*KPI_COLUMNS, "arpa"], ["month"], manifest=manifest
    )
    got = _by_month(result.columns, result.rows)
    rows = _marts(wh, f"select month, {', '.join(KPI_COLUMNS.values())} from marts.kpi_monthly")
    kpi = {c: {r[0]: r[i + 1] for r in rows} for i, c in enumerate(KPI_COLUMNS)}
    for metric, by_month in kpi.items():
        assert any(by_month.values()), f"{metric}: the fixture gives it no value to compare"
        for month, want in by_month.items():
            have = got[metric].get(month)
            # kpi_monthly writes 0 where a month has no row of that fact; MetricFlow leaves NULL
            assert have == want or (have is None and want == 0), (metric, month, have, want)
    for month, arpa in got["arpa"].items():
        mrr, customers = got["mrr"][month], got["active_customers"][month]
        if customers:
            assert abs(arpa - mrr / customers) <= Decimal("0.005"), month
        else:
            assert arpa is None


@pytest.mark.slow
def test_slices_add_up_and_follow_the_account_and_plan_attributes(built):
    wh, manifest = built
    path = wh / "current.duckdb"
    total = dict(query_metrics(path, ["mrr"], ["month"], manifest=manifest).rows)
    sliced = query_metrics(path, ["mrr"], ["month", "segment"], manifest=manifest)
    assert sliced.columns == ["month", "segment", "mrr"]
    sums: dict[Any, Decimal] = {}
    for month, _, mrr in sliced.rows:
        sums[month] = sums.get(month, Decimal(0)) + (mrr or 0)
    assert sums == {m: v or 0 for m, v in total.items()}
    # over a quarter, a balance is its last month's, a flow the sum of its months
    quarters = query_metrics(path, ["mrr", "net_new_mrr"], ["quarter"], manifest=manifest)
    monthly = query_metrics(path, ["mrr", "net_new_mrr"], ["month"], manifest=manifest).rows
    for quarter, mrr, net_new in quarters.rows:
        months = [
            r
            for r in monthly
            if (r[0].year, (r[0].month - 1) // 3) == (quarter.year, (quarter.month - 1) // 3)
        ]
        assert mrr == months[-1][1]
        assert (net_new or 0) == sum(r[2] or 0 for r in months)
    # the as-of month by segment (no time group-by: balances are the last month's)
    now = query_metrics(path, ["mrr"], ["segment"], manifest=manifest).rows
    assert now == _marts(
        wh,
        "select a.segment, sum(m.mrr_usd) from marts.fct_mrr_monthly as m "
        "join marts.dim_accounts as a using (account_id) "
        "where m.month = (select max(month) from marts.fct_mrr_monthly) group by 1 order by 1",
    )
    # plan attributes: computed billings by product family = the lines' own family
    fam = query_metrics(path, ["computed_billings"], ["product_family"], manifest=manifest).rows
    assert fam == _marts(
        wh,
        "select p.product_family, sum(l.amount_usd) from marts.fct_invoice_lines as l "
        "left join marts.dim_plans as p using (plan_id) group by 1 order by 1 nulls last",
    )
    # a filter on an account attribute
    eur = query_metrics(path, ["mrr"], ["month"], filters=["currency=EUR"], manifest=manifest)
    assert eur.rows == _marts(
        wh,
        "select m.month, sum(m.mrr_usd) from marts.fct_mrr_monthly as m "
        "join marts.dim_accounts as a using (account_id) where a.currency = 'EUR' "
        "group by 1 order by 1",
    )


@pytest.mark.slow
def test_cli_answers_read_only_and_refuses_in_one_line(built, tmp_path):
    """`subops metrics query` prints CSV at full precision; the build file is not written; a
    wrong metric or group-by, or no warehouse, is one line naming the fix."""
    wh, _ = built
    build = (wh / "current.duckdb").resolve()
    before = build.stat().st_mtime_ns
    env = {"SUBOPS_WAREHOUSE_DIR": str(wh), "COLUMNS": "160"}
    result = runner.invoke(
        app, ["metrics", "query", "--metrics", "mrr", "--group-by", "segment", "--csv"], env=env
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "segment,mrr"
    expected = _marts(
        wh,
        "select a.segment, sum(m.mrr_usd) from marts.fct_mrr_monthly as m "
        "join marts.dim_accounts as a using (account_id) "
        "where m.month = (select max(month) from marts.fct_mrr_monthly) group by 1 order by 1",
    )
    assert [tuple(ln.split(",")) for ln in lines[1:]] == [(s, str(v)) for s, v in expected]
    table = runner.invoke(app, ["metrics", "query", "-m", "mrr,arpa", "-g", "month"], env=env)
    assert table.exit_code == 0 and "arpa" in table.output
    assert build.stat().st_mtime_ns == before

    for args, words in [
        (["-m", "mrrr"], "unknown metric mrrr"),
        (["-m", "deferred_revenue", "-g", "segment"], "cannot be grouped by 'segment'"),
        (["-m", "mrr", "-f", "segment"], "NAME=VALUE"),
    ]:
        bad = runner.invoke(app, ["metrics", "query", *args], env=env)
        assert bad.exit_code != 0
        assert words in str(bad.exception) and "\n" not in str(bad.exception)
    gone = runner.invoke(
        app, ["metrics", "query", "-m", "mrr"], env={"SUBOPS_WAREHOUSE_DIR": str(tmp_path)}
    )
    assert "no published warehouse" in str(gone.exception)


@pytest.mark.slow
def test_a_warehouse_built_before_the_definitions_says_to_rebuild(built, tmp_path):
    wh, manifest = built
    old = tmp_path / "old.duckdb"
    shutil.copyfile((wh / "current.duckdb").resolve(), old)
    with duckdb.connect(str(old)) as con:
        con.execute("drop table intermediate.int_retention_accounts_compared")
    with pytest.raises(SemanticLayerError, match="predates these metric definitions"):
        query_metrics(old, ["nrr"], ["month"], manifest=manifest)


@pytest.mark.slow
def test_explain_shows_the_sql_over_schema_qualified_marts(built):
    wh, manifest = built
    sql = query_metrics(
        wh / "current.duckdb", ["nrr"], ["quarter", "region"], explain=True, manifest=manifest
    ).sql
    assert "intermediate.int_retention_accounts_compared" in sql
    assert "marts.dim_accounts" in sql and '"dev"' not in sql
    with pytest.raises(SemanticLayerError, match="cannot be grouped by"):
        query_metrics(wh / "current.duckdb", ["mrr"], ["plan"], manifest=manifest)
