"""queries.py against the warehouse the real pipeline built (pipeline_warehouse.py): every query
runs, the figures the pages put side by side tie out, user values are bound, names allow-listed."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from pipeline_warehouse import AS_OF, LATEST_FULL_MONTH

from dashboards.lib import charts, fmt, queries, queries_revenue
from pipelines.contract.model import RECORD_REJECT_REASONS, ROW_REJECT_REASONS
from pipelines.warehouse.readonly import WarehouseNotFoundError
from pipelines.warehouse.schema import ensure_schema

MOVEMENTS = ("new_usd", "reactivation_usd", "expansion_usd", "contraction_usd", "churn_usd")


def _busiest_account(path: Path) -> str:
    """The account with the most invoices (ids come from the generator, not from the test)."""
    inv = queries.invoices(path, limit=10_000)
    return str(inv["account_id"].value_counts().index[0])


def test_every_registered_query_runs_on_the_build(warehouse: Path) -> None:
    key = queries.invoices(warehouse, limit=1).iloc[0]["invoice_key"]
    args = {"invoice_lines": (key,)}
    for name, fn in queries.QUERIES.items():
        df = fn(warehouse, *args.get(name, ()))
        assert not df.empty, name


def test_every_mart_is_built_and_readable(warehouse: Path) -> None:
    tables = set(map(tuple, queries.existing_tables(warehouse).to_numpy()))
    assert ("marts", "mrr_bridge_monthly") in tables
    assert {("audit", "build_info"), ("audit", "runs"), ("quarantine", "rows")} <= tables
    cov = queries.mart_coverage(warehouse).set_index("mart")
    assert list(cov.index) == list(queries.MARTS)
    missing = sorted(cov.index[~cov["built"]])
    assert not missing, f"marts the dashboards name but the pipeline does not build: {missing}"
    assert cov.loc["kpi_monthly", "rules"] == "R7–R10"
    assert cov.loc["dim_accounts", "rules"] == "R1–R6"
    assert cov.loc["excluded_facts", "rules"] == "data quality"


def test_build_info_is_the_run_that_made_the_file(warehouse: Path) -> None:
    info = queries.build_info(warehouse)
    assert len(info) == 1
    run = info.iloc[0]
    assert run["status"] == "published" and run["warehouse_version"] == 1
    assert run["as_of_date"] == AS_OF
    assert run["reporting_currency"] == "USD" == queries.reporting_currency(warehouse)
    history = queries.runs_history(warehouse)
    assert list(history["run_id"]) == [run["run_id"]]
    assert run["checks_failed"] == 0 and run["checks_passed"] > 0


def test_kpis_tie_out_to_the_marts_they_repeat(warehouse: Path) -> None:
    """The tiles are kpi_monthly's columns as published; they tie to the marts other pages show."""
    kpis = queries.kpis_by_month(warehouse, AS_OF.replace(day=1))
    assert list(kpis.columns) == list(queries.KPI_COLUMNS)
    assert fmt.latest_full_month(list(kpis["month"]), AS_OF) == LATEST_FULL_MONTH
    for month in (LATEST_FULL_MONTH, LATEST_FULL_MONTH.replace(month=6)):
        k = kpis[kpis["month"] == month].iloc[0]
        assert isinstance(k["mrr_usd"], Decimal)  # money stays exact until the chart edge
        bridge = queries.mrr_bridge(warehouse)
        b = bridge[bridge["month"] == month].iloc[0]
        assert k["mrr_usd"] == b["closing_mrr_usd"]
        assert k["arr_usd"] == k["mrr_usd"] * 12
        assert k["net_new_mrr_usd"] == sum(b[c] for c in MOVEMENTS)  # FX excluded
        deferred = queries.deferred_rollforward(warehouse)
        d = deferred[deferred["month"] == month].iloc[0]
        assert k["deferred_revenue_usd"] == d["closing_usd"]
        # one label, one number: the Revenue page's "Revenue (recognized)" by family sums to it
        fam = queries_revenue.revenue_by_family_in_period(warehouse, None, AS_OF.replace(day=1))
        assert k["revenue_usd"] == fam[fam["month"] == month]["recognized_usd"].sum()


def test_bridge_and_waterfall_close(warehouse: Path) -> None:
    for _, r in queries.mrr_bridge(warehouse).iterrows():
        moves = sum(r[c] for c in (*MOVEMENTS, "fx_usd"))
        assert r["opening_mrr_usd"] + moves == r["closing_mrr_usd"], r["month"]
    roll = queries.deferred_rollforward(warehouse)
    assert list(roll.columns) == [
        *queries.WATERFALL_COLUMNS,
        queries.WATERFALL_FX_DIFFERENCE_COLUMN,
    ]
    for _, r in roll.iterrows():
        change = r["billings_usd"] - r["recognized_usd"] + r["unbilled_change_usd"]
        assert r["opening_usd"] + change == r["closing_usd"], r["month"]


def test_waterfall_fx_line_ties_to_revenue(warehouse: Path) -> None:
    """The waterfall's FX line: recognized at invoice-date rates + FX translation = revenue at
    month-end rates (the Overview's figure), every month of the real build."""
    roll = queries.deferred_rollforward(warehouse)
    col = queries.WATERFALL_FX_DIFFERENCE_COLUMN
    assert list(roll.columns) == [*queries.WATERFALL_COLUMNS, col]
    kpis = queries.kpis_by_month(warehouse).set_index("month")
    for _, r in roll.iterrows():
        assert r["recognized_usd"] + r[col] == kpis.loc[r["month"], "revenue_usd"]


def test_invoice_filters_are_bound(warehouse: Path) -> None:
    account = _busiest_account(warehouse)
    all_ = queries.invoices(warehouse, limit=10_000)
    one = queries.invoices(warehouse, account_id=account, limit=10_000)
    assert set(one["account_id"]) == {account} and len(one) < len(all_)
    month = fmt.as_date(queries.invoice_months(warehouse)["month"].iloc[1])
    in_month = queries.invoices(warehouse, month=month, limit=10_000)
    assert {d.replace(day=1) for d in in_month["invoice_date"]} == {month}
    both = queries.invoices(warehouse, account_id=account, month=month, limit=10_000)
    assert set(both["invoice_key"]) == set(one["invoice_key"]) & set(in_month["invoice_key"])
    # a hostile value is just a value: no rows, no SQL
    assert queries.invoices(warehouse, account_id="x' OR '1'='1").empty
    assert len(queries.invoices(warehouse, limit=3)) == 3
    lines = queries.invoice_lines(warehouse, one.iloc[0]["invoice_key"])
    assert not lines.empty
    assert set(lines["line_type"]) <= {"recurring", "proration", "usage", "one_time"}


def test_account_filters(warehouse: Path) -> None:
    top = queries.top_accounts(warehouse, limit=200)
    assert list(top["current_mrr_usd"]) == sorted(top["current_mrr_usd"], reverse=True)
    everyone = queries.top_accounts(warehouse, limit=200, include_deleted=True)
    accounts = queries.accounts(warehouse)
    assert len(everyone) == len(accounts) > len(top)  # the generator deletes an account
    seg, reg = top.iloc[0]["segment"], top.iloc[0]["region"]
    one = queries.top_accounts(warehouse, segments=(seg,), regions=(reg,))
    assert set(one["segment"]) == {seg} and set(one["region"]) == {reg}
    assert queries.top_accounts(warehouse, segments=("nope'--",)).empty
    by_seg = queries.mrr_by_segment(warehouse, segments=(seg,))
    assert set(by_seg["segment"]) == {seg}


def test_retention_and_cohorts(warehouse: Path) -> None:
    ret = queries_revenue.retention_in_period(warehouse)
    assert ret["nrr_t12"].notna().any()
    logo = queries.cohort_retention(warehouse, "logo")
    mrr = queries.cohort_retention(warehouse, "mrr")
    assert list(logo.columns) == [
        "cohort_month",
        "months_since_start",
        "active_accounts",
        "mrr_usd",
        "value",
    ]
    assert (logo[logo["months_since_start"] == 0]["value"] == 1).all()
    assert (mrr[mrr["months_since_start"] == 0]["value"] == 1).all()


def test_months_after_the_as_of_month_are_left_out(warehouse: Path) -> None:
    through = AS_OF.replace(day=1)
    assert max(queries.kpis_by_month(warehouse, through)["month"]) == through
    family = queries_revenue.revenue_by_family_in_period(warehouse, None, through)
    assert max(family["month"]) == through


def test_revenue_by_family_uses_the_marts_vocabulary(warehouse: Path) -> None:
    rev = queries_revenue.revenue_by_family_in_period(warehouse, None, AS_OF.replace(day=1))
    families = set(rev["product_family"].dropna())
    assert "platform" in families and families == {f.lower() for f in families}
    assert charts.family_label("platform") == "Platform"
    assert charts.family_label(None) == "Credits, other"


def test_load_and_quarantine_figures_tie(warehouse: Path) -> None:
    """The Data quality page's numbers: rows quarantined = row rejects + rows of rejected files."""
    run_id = queries.build_info(warehouse).iloc[0]["run_id"]
    summary = queries.load_summary(warehouse)
    assert list(summary["run_id"]) == [run_id]
    log = queries.load_log(warehouse, run_id=run_id)
    assert summary.iloc[0]["files"] == len(log) and set(log["run_id"]) == {run_id}
    assert queries.load_log(warehouse, run_id="no-such-run").empty
    reasons = queries.quarantine_reasons(warehouse)
    assert list(reasons.columns) == ["reason", "source", "table", "rows"]
    assert set(reasons["reason"]) <= ROW_REJECT_REASONS | RECORD_REJECT_REASONS  # codes
    files = queries.quarantine_files(warehouse)
    assert int(reasons["rows"].sum()) + int(files["rows_read"].sum()) == int(
        summary.iloc[0]["rows_quarantined"]
    )
    sample = queries.quarantine_sample(warehouse, reason="bad_type", limit=5)
    assert set(sample["reason_code"]) == {"bad_type"} and len(sample) == 5
    checks = queries.check_results(warehouse, run_id)
    assert set(checks["run_id"]) == {run_id} and checks["passed"].all()
    assert queries.check_results(warehouse, "no-such-run").empty


def test_breaches_and_excluded_facts(warehouse: Path) -> None:
    """Breaches reported on loaded rows and the facts of unknown accounts the totals leave out,
    as the Data quality page reads them."""
    summary = queries.reference_breach_summary(warehouse)
    assert list(summary.columns) == ["reason_code", "source", "table", "column", "rows"]
    assert "unknown_reference" in set(summary["reason_code"])
    code = summary.iloc[0]["reason_code"]
    sample = queries.reference_breach_sample(warehouse, code, 1000)
    assert set(sample["reason_code"]) == {code}
    assert len(sample) == int(summary[summary["reason_code"] == code]["rows"].sum())
    assert sample["reason"].str.len().min() > 10  # the loader's sentence, with the fix
    excluded = queries.excluded_facts(warehouse)
    assert excluded.iloc[0]["excluded_rows"] == excluded["excluded_rows"].max()  # most first
    assert all(isinstance(a, Decimal) for a in excluded["amount_usd"].dropna())
    leakage = queries.billing_exception_summary(warehouse)
    assert list(leakage.columns) == ["exception_type", "exceptions", "leakage_usd"]


AUDIT_QUERIES = (
    "build_info",
    "runs_history",
    "load_log",
    "load_summary",
    "quarantine_reasons",
    "quarantine_sample",
    "quarantine_files",
    "check_results",
    "reference_breach_summary",
    "reference_breach_sample",
)


def test_audit_queries_read_the_loaders_own_schema(tmp_path: Path) -> None:
    """The audit/quarantine SQL names the columns pipelines/warehouse/schema.py creates: it runs
    on a fresh warehouse of that DDL (no build needed to catch a renamed column)."""
    path = tmp_path / "fresh.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_schema(con)
    for name in AUDIT_QUERIES:
        assert queries.QUERIES[name](path).empty, name
    assert queries.reporting_currency(path) is None


def test_reporting_currency_comes_from_the_build(eur_warehouse_dir: Path) -> None:
    assert queries.reporting_currency(eur_warehouse_dir / "current.duckdb") == "EUR"


@pytest.mark.parametrize(
    ("schema", "table"),
    [
        ("raw", "accounts"),
        ("marts", "secrets"),
        ("marts", "dim_accounts; DROP TABLE x"),
        ("staging", "stg_billing__accounts"),
        ("information_schema", "tables"),
    ],
)
def test_names_outside_the_allow_list_are_refused(warehouse: Path, schema: str, table: str) -> None:
    with pytest.raises(queries.NotAllowedError):
        queries.table_columns(warehouse, schema, table)


def test_cohort_metric_allow_list(warehouse: Path) -> None:
    with pytest.raises(queries.NotAllowedError):
        queries.cohort_retention(warehouse, "logo_retention; DROP TABLE marts.dim_accounts")


def test_connections_are_pooled_read_only_and_released(warehouse: Path, tmp_path: Path) -> None:
    warehouse = Path(shutil.copy(warehouse, tmp_path / "copy.duckdb"))  # the writer gets a copy
    queries.kpis_by_month(warehouse)
    queries.mrr_bridge(warehouse)
    assert len([k for k in queries._POOL if k[0] == str(warehouse)]) == 1  # one per build file
    queries.release()  # nothing left open: a writer can take the file right away
    with duckdb.connect(str(warehouse)) as con:
        con.execute("SELECT 1").fetchall()
    with queries.connection(warehouse) as con, pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE marts.x (a INT)")
    with queries.connection(warehouse) as con, pytest.raises(duckdb.Error):
        con.sql("SELECT * FROM read_csv('/etc/passwd')").fetchall()
    queries.release()


def test_missing_warehouse_raises_clearly(tmp_path: Path) -> None:
    with pytest.raises(WarehouseNotFoundError):
        queries.existing_tables(tmp_path / "current.duckdb")


def test_invoice_months_are_month_starts(warehouse: Path) -> None:
    months = [fmt.as_date(m) for m in queries.invoice_months(warehouse)["month"]]
    assert months == sorted(months, reverse=True) and all(m.day == 1 for m in months)
    assert months[0] == AS_OF.replace(day=1) and dt.date(2024, 10, 1) <= months[-1]
