"""queries.py against the fixture warehouse: shapes, values, bound parameters, allow-lists."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dashboard_warehouse import AS_OF, LATEST_FULL_MONTH

from dashboards.lib import fmt, queries
from pipelines.warehouse.readonly import WarehouseNotFoundError


def test_every_registered_query_runs_on_the_full_fixture(full_warehouse: Path) -> None:
    args = {"invoice_lines": ("INV-A001-202609",)}
    for name, fn in queries.QUERIES.items():
        df = fn(full_warehouse, *args.get(name, ()))
        assert not df.empty, name


def test_existing_tables_and_coverage(warehouse: Path) -> None:
    tables = set(map(tuple, queries.existing_tables(warehouse).to_numpy()))
    assert ("marts", "mrr_bridge_monthly") in tables
    assert ("audit", "runs") in tables and ("quarantine", "rows") in tables
    cov = queries.mart_coverage(warehouse).set_index("mart")
    assert cov.loc["dim_accounts", "built"]
    assert not cov.loc["ar_aging", "built"]
    assert cov.loc["kpi_monthly", "built"]
    assert cov.loc["kpi_monthly", "rules"] == "R7–R10"
    assert cov.loc["dim_accounts", "rules"] == "R1–R6"
    assert list(cov.index) == list(queries.MARTS)


def test_kpis_by_month_read_kpi_monthly_and_tie_out(warehouse: Path) -> None:
    """The tiles are kpi_monthly's columns as published; they tie to the marts they repeat."""
    kpis = queries.kpis_by_month(warehouse, AS_OF.replace(day=1))
    assert list(kpis.columns) == list(queries.KPI_COLUMNS)
    oct_ = kpis[kpis["month"] == LATEST_FULL_MONTH].iloc[0]
    bridge = queries.mrr_bridge(warehouse)
    b = bridge[bridge["month"] == LATEST_FULL_MONTH].iloc[0]
    assert oct_["mrr_usd"] == b["closing_mrr_usd"]
    assert isinstance(oct_["mrr_usd"], Decimal)  # money stays exact until the chart edge
    movements = sum(
        b[c] for c in ("new_usd", "reactivation_usd", "expansion_usd", "contraction_usd")
    )
    assert oct_["net_new_mrr_usd"] == movements + b["churn_usd"]
    deferred = queries.deferred_rollforward(warehouse)
    d = deferred[deferred["month"] == LATEST_FULL_MONTH].iloc[0]
    assert oct_["deferred_revenue_usd"] == d["closing_usd"]
    assert oct_["revenue_usd"] == d["recognized_usd"]
    assert oct_["arr_usd"] == oct_["mrr_usd"] * 12
    assert fmt.latest_full_month(list(kpis["month"]), AS_OF) == LATEST_FULL_MONTH


def test_bridge_and_rollforward_close(warehouse: Path) -> None:
    for _, r in queries.mrr_bridge(warehouse).iterrows():
        moves = sum(
            r[c]
            for c in (
                "new_usd",
                "reactivation_usd",
                "expansion_usd",
                "contraction_usd",
                "churn_usd",
                "fx_usd",
            )
        )
        assert r["opening_mrr_usd"] + moves == r["closing_mrr_usd"]
    for _, r in queries.deferred_rollforward(warehouse).iterrows():
        assert r["opening_usd"] + r["billings_usd"] - r["recognized_usd"] == r["closing_usd"]


def test_latest_run_is_the_latest_published(warehouse: Path) -> None:
    run = queries.latest_run(warehouse).iloc[0]
    assert run["run_id"] == "run-0002"  # run-0003 is newer but failed
    assert run["as_of_date"] == AS_OF
    assert run["warehouse_version"] == 2
    assert len(queries.runs_history(warehouse, 2)) == 2


def test_invoice_filters_are_bound(warehouse: Path) -> None:
    all_ = queries.invoices(warehouse, limit=10_000)
    one = queries.invoices(warehouse, account_id="A001")
    assert set(one["account_id"]) == {"A001"} and len(one) < len(all_)
    month = dt.date(2026, 9, 1)
    sep = queries.invoices(warehouse, month=month, limit=10_000)
    assert {d.replace(day=1) for d in sep["invoice_date"]} == {month}
    both = queries.invoices(warehouse, account_id="A001", month=month)
    assert list(both["invoice_key"]) == ["INV-A001-202609"]
    # a hostile value is just a value: no rows, no SQL
    assert queries.invoices(warehouse, account_id="x' OR '1'='1").empty
    assert len(queries.invoices(warehouse, limit=3)) == 3
    lines = queries.invoice_lines(warehouse, "INV-A001-202609")
    assert set(lines["line_type"]) <= {"recurring", "proration", "usage", "one_time"}


def test_account_filters(warehouse: Path) -> None:
    top = queries.top_accounts(warehouse, limit=50)
    assert list(top["current_mrr_usd"]) == sorted(top["current_mrr_usd"], reverse=True)
    assert "A012" not in set(top["account_id"])  # is_deleted
    assert "A012" in set(queries.top_accounts(warehouse, include_deleted=True)["account_id"])
    smb_na = queries.top_accounts(warehouse, segments=("smb",), regions=("NA",))
    assert set(smb_na["segment"]) == {"smb"} and set(smb_na["region"]) == {"NA"}
    assert queries.top_accounts(warehouse, segments=("nope'--",)).empty
    seg = queries.mrr_by_segment(warehouse, segments=("enterprise",))
    assert set(seg["segment"]) == {"enterprise"}


def test_retention_and_cohorts(warehouse: Path) -> None:
    ret = queries.retention(warehouse)
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
    first = logo[logo["months_since_start"] == 0]
    assert (first["value"] == 1.0).all() and (
        mrr[mrr["months_since_start"] == 0]["value"] == 1
    ).all()


def test_months_after_the_as_of_month_are_left_out(warehouse: Path) -> None:
    through = AS_OF.replace(day=1)
    assert max(queries.kpis_by_month(warehouse, through)["month"]) == through
    assert max(queries.revenue_by_family(warehouse, through)["month"]) == through


def test_revenue_by_family(warehouse: Path) -> None:
    rev = queries.revenue_by_family(warehouse, AS_OF.replace(day=1))
    assert {"Platform", "Usage", "Services"} <= set(rev["product_family"].dropna())
    assert rev["product_family"].isna().any()  # the credit note has no family


def test_audit_and_quarantine(warehouse: Path) -> None:
    summary = queries.load_summary(warehouse)
    assert list(summary["run_id"]) == ["run-0002", "run-0001"]
    assert summary.iloc[0]["files"] == 8
    log = queries.load_log(warehouse, run_id="run-0001")
    assert set(log["run_id"]) == {"run-0001"}
    reasons = queries.quarantine_reasons(warehouse)
    assert {"reason", "source", "table", "rows"} <= set(reasons.columns)
    assert int(reasons["rows"].sum()) == int(summary.iloc[0]["rows_quarantined"])
    sample = queries.quarantine_sample(warehouse, reason="bad_type", limit=5)
    assert set(sample["reason_code"]) == {"bad_type"} and len(sample) <= 5
    assert set(reasons["reason"]) <= {
        "bad_type",
        "bad_enum",
        "missing_required",
        "duplicate_key",
        "negative_amount",
    }  # codes, not text
    files = queries.quarantine_files(warehouse)
    assert list(files["reason_code"]) == ["missing_column"]
    checks = queries.check_results(warehouse, "run-0003")
    assert set(checks["run_id"]) == {"run-0003"} and not checks.iloc[0]["passed"]
    assert queries.check_results(warehouse, "run-0002")["passed"].all()


def test_later_marts_queries(full_warehouse: Path) -> None:
    aging = queries.ar_aging_buckets(full_warehouse)
    assert list(aging["bucket"]) == list(queries.AGING_BUCKETS)
    assert not queries.billing_exception_summary(full_warehouse).empty


def test_breaches_and_excluded_facts(full_warehouse: Path) -> None:
    """Issue 9: breaches reported on loaded rows, and the facts of unknown accounts the totals
    leave out, as the Data quality page reads them."""
    summary = queries.reference_breach_summary(full_warehouse)
    assert list(summary.columns) == ["reason_code", "source", "table", "column", "rows"]
    assert set(summary["reason_code"]) == {"unknown_reference", "overpayment", "stale_fx_rate"}
    sample = queries.reference_breach_sample(full_warehouse, "overpayment", 10)
    assert list(sample["key"]) == ["PAY-7"] and "over-paid" in sample.iloc[0]["reason"]
    assert len(queries.reference_breach_sample(full_warehouse)) == 3
    excluded = queries.excluded_facts(full_warehouse)
    assert excluded.iloc[0]["fact_table"] == "support.tickets"  # most rows first
    assert int(excluded["excluded_rows"].sum()) == 1
    assert isinstance(excluded.iloc[0]["amount_usd"], Decimal)
    cov = queries.mart_coverage(full_warehouse).set_index("mart")
    assert (
        cov.loc["excluded_facts", "built"] and cov.loc["excluded_facts", "rules"] == "data quality"
    )


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


def test_connections_are_read_only_and_closed(warehouse: Path, tmp_path: Path) -> None:
    warehouse = Path(shutil.copy(warehouse, tmp_path / "copy.duckdb"))  # the writer gets a copy
    queries.kpis_by_month(warehouse)
    # no reader left open: a writer can take the file right away
    with duckdb.connect(str(warehouse)) as con:
        con.execute("SELECT 1").fetchall()
    with queries.connection(warehouse) as con, pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE marts.x (a INT)")
    with queries.connection(warehouse) as con, pytest.raises(duckdb.Error):
        con.sql("SELECT * FROM read_csv('/etc/passwd')").fetchall()


def test_missing_warehouse_raises_clearly(tmp_path: Path) -> None:
    with pytest.raises(WarehouseNotFoundError):
        queries.existing_tables(tmp_path / "current.duckdb")
