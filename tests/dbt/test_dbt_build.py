"""Build the dbt project once on a tiny hand-made company and check the marts to the cent.

The raw database comes from dbt_project/scripts/make_dev_db.py (contract DDL + a few accounts that
replay the worked examples of docs/metrics.md). One `dbt build` per test session (models, data
tests, unit tests, singular invariants)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_helpers import dbt_build, make_dev_db, q

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("dbt_build")
    db = make_dev_db().build_dev_db(tmp / "dev.duckdb")
    started = time.monotonic()
    dbt_build(db, tmp, "2025-12-31")
    print(f"dbt build took {time.monotonic() - started:.1f} s")
    return db


def test_every_unit_test_runs_and_passes_here(warehouse):
    """The nightly `dbt build` skips the unit tests (pipelines/defs/dbt/assets.py); this build is
    where each one runs, once per `make test`."""
    results = json.loads((warehouse.parent / "target" / "run_results.json").read_text())
    ran = {r["unique_id"]: r["status"] for r in results["results"]}
    manifest = json.loads((warehouse.parent / "target" / "manifest.json").read_text())
    assert manifest["unit_tests"] and {u: ran.get(u) for u in manifest["unit_tests"]} == {
        u: "pass" for u in manifest["unit_tests"]
    }


def D(x: str) -> Decimal:
    return Decimal(x)


def test_example_4_5_seat_change_lines_and_revenue(warehouse):
    lines = q(
        warehouse,
        """select invoice_date, amount from marts.fct_invoice_lines
                            where subscription_id = 'S1' order by invoice_date, amount""",
    )
    assert [(str(d), a) for d, a in lines] == [
        ("2025-01-15", D("1000.00")),
        ("2025-02-15", D("1000.00")),
        ("2025-03-10", D("-178.57")),
        ("2025-03-10", D("267.86")),
        ("2025-03-15", D("1500.00")),
        ("2025-04-01", D("-677.42")),
    ]
    revenue = dict(
        q(
            warehouse,
            """select cast(month as varchar), sum(recognized)
                                   from marts.fct_revenue_schedule
                                   where invoice_line_key like 'S1|%' group by 1""",
        )
    )
    assert revenue == {
        "2025-01-01": D("548.39"),
        "2025-02-01": D("951.61"),
        "2025-03-01": D("1411.87"),
        "2025-04-01": D("0.00"),
    }


def test_example_4_5_mrr_movements(warehouse):
    mrr = dict(
        q(
            warehouse,
            """select cast(month as varchar), mrr from marts.fct_mrr_monthly
                               where account_id = 'A1' and month <= '2025-04-01'""",
        )
    )
    assert mrr == {"2025-01-01": 1000, "2025-02-01": 1000, "2025-03-01": 1500, "2025-04-01": 0}
    moves = q(
        warehouse,
        """select cast(month as varchar), movement_type, amount_usd
                            from marts.fct_mrr_movements where account_id = 'A1' order by month""",
    )
    assert moves == [
        ("2025-01-01", "new", 1000),
        ("2025-03-01", "expansion", 500),
        ("2025-04-01", "churn", -1500),
    ]


def test_example_1_and_6_deferred_and_unbilled(warehouse):
    s2 = q(
        warehouse,
        """select cast(month as varchar), recognized from marts.fct_revenue_schedule
                         where invoice_line_key = 'S2|recurring|charge|2025-01-15'
                         order by month""",
    )
    assert s2 == [("2025-01-01", D("17.00")), ("2025-02-01", D("14.00"))]
    usage = q(
        warehouse,
        """select cast(invoice_date as varchar), amount from marts.fct_invoice_lines
                            where subscription_id = 'S3' and invoice_date <= '2025-03-01'
                            order by invoice_date""",
    )
    assert usage == [("2025-02-01", D("5.00")), ("2025-03-01", D("0.00"))]
    jan = q(
        warehouse,
        "select unbilled_usd from marts.deferred_revenue_monthly where month = '2025-01-01'",
    )
    assert jan == [(D("5.00"),)]
    # the as-of month's usage: recognized to date, unbilled, not invoiced
    dec = q(
        warehouse,
        """select recognized, is_billed from marts.fct_revenue_schedule
                          where invoice_line_key = 'S3|usage|2025-12-01'""",
    )
    assert dec == [(D("13.45"), False)]
    assert q(
        warehouse,
        """select count(*) from marts.fct_invoice_lines
                           where invoice_line_key = 'S3|usage|2025-12-01'""",
    ) == [(0,)]


def test_example_7_month_end_anchor(warehouse):
    dates = q(
        warehouse,
        """select cast(invoice_date as varchar) from marts.fct_invoice_lines
                            where subscription_id = 'S8' order by invoice_date limit 4""",
    )
    assert [d for (d,) in dates] == ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30"]


def test_example_2_8_9_mrr(warehouse):
    annual = q(
        warehouse,
        "select mrr from marts.fct_mrr_monthly where account_id = 'A4' and month = '2025-01-01'",
    )
    assert annual[0][0].quantize(D("0.01")) == D("166.67")
    eur = q(
        warehouse,
        """select cast(month as varchar), mrr_usd from marts.fct_mrr_monthly
                          where account_id = 'A3' and month <= '2025-02-01' order by month""",
    )
    assert [(m, v.quantize(D("0.01"))) for m, v in eur] == [
        ("2025-01-01", D("222.22")),
        ("2025-02-01", D("250.00")),
    ]
    feb = q(
        warehouse,
        """select movement_type, amount_usd from marts.fct_mrr_movements
                          where account_id = 'A3' and month = '2025-02-01'""",
    )
    assert [(t, v.quantize(D("0.01"))) for t, v in feb] == [("fx", D("27.78"))]
    a5 = q(
        warehouse,
        """select cast(month as varchar), movement_type from marts.fct_mrr_movements
                         where account_id = 'A5' order by month""",
    )
    assert a5 == [("2025-03-01", "new"), ("2025-07-01", "churn"), ("2025-10-01", "reactivation")]


def test_accounts_and_row_counts(warehouse):
    status = dict(q(warehouse, "select account_id, status from marts.dim_accounts"))
    assert status["A1"] == "churned" and status["A7"] == "never_paid" and status["A2"] == "active"
    for mart in [
        "dim_accounts",
        "dim_plans",
        "fct_subscription_segments",
        "fct_invoice_lines",
        "fct_invoices",
        "fct_revenue_schedule",
        "deferred_revenue_monthly",
        "fct_mrr_monthly",
        "fct_mrr_movements",
        "mrr_bridge_monthly",
        "retention_monthly",
        "cohort_retention",
        "fct_mrr_by_plan_monthly",
    ]:
        assert q(warehouse, f"select count(*) from marts.{mart}")[0][0] > 0, mart


def test_missing_fx_rate_is_null_and_flagged_never_zero(warehouse):
    line = q(
        warehouse,
        """select amount, amount_usd, is_missing_fx_rate from marts.fct_invoice_lines
                           where charge_id = 'C3'""",
    )
    assert line == [(D("4000.00"), None, True)]
    inv = q(
        warehouse,
        """select amount_usd, is_missing_fx_rate from marts.fct_invoices
                          where account_id = 'A9'""",
    )
    assert inv == [(None, True)]


def test_first_fx_rate_after_mrr_started_enters_the_bridge_as_fx(warehouse):
    # CHF account from 2025-01-01, first CHF rate on 2025-03-15: NULL (flagged) in Jan/Feb,
    # and in March the carried 90 CHF (= 100 USD) enters the reporting totals as fx.
    rows = q(
        warehouse,
        """select cast(month as varchar), mrr_usd, is_missing_fx_rate from marts.fct_mrr_monthly
           where account_id = 'A10' and month <= '2025-03-01' order by month""",
    )
    assert rows == [
        ("2025-01-01", None, True),
        ("2025-02-01", None, True),
        ("2025-03-01", 100, False),
    ]
    fx = q(
        warehouse,
        """select amount_usd from marts.fct_mrr_movements
           where account_id = 'A10' and month = '2025-03-01' and movement_type = 'fx'""",
    )
    assert fx == [(100,)]


def test_every_mart_table_and_column_carries_its_description(warehouse):
    """persist_docs: each mart's yml descriptions are DuckDB comments, word for word, so any SQL
    client (duckdb_columns(), DBeaver, the DuckDB UI, `subops describe`) shows them."""
    manifest = json.loads((warehouse.parent / "target" / "manifest.json").read_text())
    models = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    tables = dict(
        q(warehouse, "select table_name, comment from duckdb_tables() where schema_name = 'marts'")
    )
    assert set(tables) == set(models)
    columns = q(
        warehouse,
        "select table_name, column_name, comment from duckdb_columns() "
        "where schema_name = 'marts' order by all",
    )
    assert columns, "no mart columns"
    undocumented = [f"{t}.{c}" for t, c, doc in columns if not (doc or "").strip()]
    undocumented += [t for t, doc in tables.items() if not (doc or "").strip()]
    assert not undocumented, f"marts without a comment: {undocumented}"
    for name, doc in tables.items():
        assert doc.strip() == models[name]["description"].strip(), name
    for table, column, doc in columns:
        assert doc.strip() == models[table]["columns"][column]["description"].strip(), column


def test_pause_is_not_a_cancellation(warehouse):
    # A8 pauses on 2025-03-15 and resumes on 2025-05-01: R5 churn then reactivation, tagged pause
    # and resume; A5 cancels in July and comes back with a new subscription in October.
    rows = q(
        warehouse,
        """select account_id, cast(month as varchar), movement_type, movement_cause, amount
           from marts.fct_mrr_movements
           where account_id in ('A5', 'A8') and movement_type in ('churn', 'reactivation')
           order by account_id, month""",
    )
    assert [(a, m, t, c, v.quantize(D("0.01"))) for a, m, t, c, v in rows] == [
        ("A5", "2025-07-01", "churn", "cancel", D("-400.00")),
        ("A5", "2025-10-01", "reactivation", "reactivation", D("500.00")),
        ("A8", "2025-03-01", "churn", "pause", D("-166.67")),
        ("A8", "2025-05-01", "reactivation", "resume", D("166.67")),
    ]
    march = q(
        warehouse,
        """select churn_usd, churn_paused_usd, churn_cancelled_usd from marts.mrr_bridge_monthly
           where month = '2025-03-01'""",
    )
    assert march == [(march[0][1], march[0][1], 0)]


def test_mrr_by_plan_follows_the_plan_change(warehouse):
    # A8 moves from the quarterly plan to the annual one on 2025-06-10 (same MRR): May on P_QTR,
    # June on P_ANNUAL; paused months have no row.
    rows = q(
        warehouse,
        """select cast(month as varchar), plan_id, product_family, segment, region, mrr
           from marts.fct_mrr_by_plan_monthly
           where account_id = 'A8' and month <= '2025-06-01' order by month""",
    )
    assert [(m, p, f, s, r, v.quantize(D("0.01"))) for m, p, f, s, r, v in rows] == [
        ("2025-02-01", "P_QTR", "analytics", "mid_market", "apac", D("166.67")),
        ("2025-05-01", "P_QTR", "analytics", "mid_market", "apac", D("166.67")),
        ("2025-06-01", "P_ANNUAL", "analytics", "mid_market", "apac", D("166.67")),
    ]
    assert q(
        warehouse,
        """select count(*) from marts.fct_mrr_monthly as m
           where m.mrr <> (select coalesce(sum(p.mrr), 0) from marts.fct_mrr_by_plan_monthly as p
                           where p.account_id = m.account_id and p.month = m.month)""",
    ) == [(0,)]


def test_revenue_waterfall_fx_line_ties_to_kpi_revenue(warehouse):
    rows = q(
        warehouse,
        """select d.recognized_usd, d.fx_translation_usd, d.revenue_usd, k.revenue_usd
           from marts.deferred_revenue_monthly as d
           join marts.kpi_monthly as k using (month) order by month""",
    )
    assert rows and all(r + fx == rev == kpi for r, fx, rev, kpi in rows)
    # the EUR account (A3) makes the two rates differ in some month
    assert any(fx != 0 for _, fx, _, _ in rows)
