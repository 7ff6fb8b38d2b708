"""The Cash page on the warehouse the real pipeline built: it renders, its AR and bucket totals
are the marts', the worklist of a bucket is exactly ar_aging's invoices of that bucket, a bucket
outside the five labels never reaches SQL, and every query of `queries_cash` runs on the build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pipeline_warehouse
import pytest
from pipeline_warehouse import LATEST_FULL_MONTH, copy_warehouse, execute
from streamlit.testing.v1 import AppTest

from dashboards.lib import fmt, queries, queries_cash
from dashboards.lib.cache import REGISTRY

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
PAGE = "app_pages/cash.py"


def _sql(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    return pipeline_warehouse.rows(path, sql, params)


def _frame(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page with `column` (the summary: bucket; the worklist:
    invoice_date)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture
def cash_page(warehouse: Path) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def _tiles_are_the_months(at: AppTest, warehouse: Path, month: dt.date, before: dt.date) -> None:
    """The tiles are collections_monthly's row of `month`, with deltas vs `before`'s row."""
    row, prev = (
        _sql(
            warehouse,
            "SELECT ar_usd, dso_days, collected_usd, failed_payment_rate "
            "FROM marts.collections_monthly WHERE month = ?",
            [m],
        )[0]
        for m in (month, before)
    )
    usd = fmt.currency("USD")
    tiles = {m.label: m for m in at.metric}
    assert tiles["Accounts receivable"].value == fmt.money_short(row[0], usd)
    assert tiles["Accounts receivable"].proto.delta == fmt.delta_money(row[0], prev[0], usd)
    assert tiles["Collected"].value == fmt.money_short(row[2], usd)
    assert tiles["DSO"].value == ("n/a" if row[1] is None else fmt.days(row[1]))
    assert tiles["Failed payment rate"].proto.delta == (fmt.delta_pp(row[3], prev[3]) or "")
    want = f"vs {before:%b %Y}"
    assert all(m.proto.delta_description.startswith(want) for m in at.metric if m.proto.delta)


def test_page_renders_with_mart_totals(cash_page: AppTest, warehouse: Path) -> None:
    at = cash_page
    assert at.title[0].value == "Cash"
    _tiles_are_the_months(at, warehouse, LATEST_FULL_MONTH, dt.date(2026, 9, 1))
    assert "vs Sep 2026 (MoM)" in {m.proto.delta_description for m in at.metric}
    (ar,) = _sql(warehouse, "SELECT sum(open_usd) FROM marts.ar_aging")[0]
    (ar_month,) = _sql(
        warehouse, "SELECT ar_usd FROM marts.collections_monthly ORDER BY month DESC LIMIT 1"
    )[0]
    assert ar == ar_month  # the mart's own tie-out: the aging is the as-of month's AR
    # the bucket summary table: every bucket's invoices and open balance as in ar_aging
    expected = {
        b: (n, s)
        for b, n, s in _sql(
            warehouse, "SELECT bucket, count(*), sum(open_usd) FROM marts.ar_aging GROUP BY 1"
        )
    }
    summary = _frame(at, "bucket")
    assert list(summary["bucket"]) == [
        "Not yet due",
        "1–30 days",
        "31–60 days",
        "61–90 days",
        "Over 90 days",
    ]
    for bucket, n, total in zip(
        queries.AGING_BUCKETS, summary["invoices"], summary["open_usd"], strict=True
    ):
        want_n, want_total = expected.get(bucket, (0, Decimal("0.00")))
        assert (n, Decimal(str(total))) == (want_n, want_total or Decimal("0.00")), bucket
    assert sum(Decimal(str(v)) for v in summary["open_usd"]) == ar


def _segment(warehouse: Path) -> str:
    """A segment with some, but not all, of the open invoices and billing exceptions."""
    rows = _sql(
        warehouse,
        "SELECT d.segment FROM marts.dim_accounts AS d "
        "WHERE d.segment IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM marts.ar_aging AS a WHERE a.account_id = d.account_id) "
        "AND EXISTS (SELECT 1 FROM marts.billing_exceptions AS e "
        "WHERE e.account_id = d.account_id) "
        "GROUP BY 1 ORDER BY count(*) DESC, 1",
    )
    assert rows, "the test company has no segment with both open invoices and exceptions"
    return rows[0][0]


def test_a_segment_filters_the_lists_not_the_company_wide_tiles(warehouse: Path) -> None:
    segment = _segment(warehouse)
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    at.query_params["segment"] = segment
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    _tiles_are_the_months(at, warehouse, LATEST_FULL_MONTH, dt.date(2026, 9, 1))
    assert any("segment and region filters don't apply" in c.value for c in at.caption)
    by_bucket = dict(
        (b, (n, s))
        for b, n, s in _sql(
            warehouse,
            "SELECT a.bucket, count(*), sum(a.open_usd) FROM marts.ar_aging AS a "
            "JOIN marts.dim_accounts AS d USING (account_id) WHERE d.segment = ? GROUP BY 1",
            [segment],
        )
    )
    summary = _frame(at, "bucket")
    for bucket, n, total in zip(
        queries.AGING_BUCKETS, summary["invoices"], summary["open_usd"], strict=True
    ):
        want_n, want_total = by_bucket.get(bucket, (0, None))
        assert (n, Decimal(str(total))) == (want_n, want_total or Decimal("0.00")), bucket
    # the worklist shows the segment's invoices of the chosen bucket
    bucket = at.segmented_control(key="aging_bucket").value
    shown = _frame(at, "invoice_date")
    assert len(shown) == by_bucket[bucket][0]
    # the exceptions of the period (the last 12 full months), of the segment's accounts only
    want = {
        r[0]
        for r in _sql(
            warehouse,
            "SELECT e.exception_key FROM marts.billing_exceptions AS e "
            "JOIN marts.dim_accounts AS d USING (account_id) "
            "WHERE d.segment = ? AND e.month BETWEEN ? AND ?",
            [segment, dt.date(2025, 11, 1), LATEST_FULL_MONTH],
        )
    }
    exceptions = next(d.value for d in at.dataframe if d.key == "exceptions")
    assert set(exceptions["exception_key"]) == want
    # selecting a worklist row offers its account (as text while Account 360 is not registered)
    at.session_state["worklist"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception and not at.error, (at.exception, at.error)
    account = shown.iloc[0]["account_id"]
    assert any(str(account) in c.value for c in at.caption) or any(
        str(account) in str(link.proto) for link in at.get("page_link")
    )


def test_a_period_preset_and_a_click_on_a_leakage_month(warehouse: Path) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    at.query_params["period"] = "3m"
    at.query_params["cmp"] = "yoy"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    _tiles_are_the_months(at, warehouse, LATEST_FULL_MONTH, dt.date(2025, 10, 1))
    assert "vs Oct 2025 (YoY)" in {m.proto.delta_description for m in at.metric}
    months = [dt.date(2026, 8, 1), dt.date(2026, 9, 1), LATEST_FULL_MONTH]
    assert at.selectbox(key="exc_month").options == [
        "The whole period",
        *(fmt.month_label(m) for m in reversed(months)),
    ]
    # click September's leakage bar: the list is that month's exceptions
    month = months[1]
    at.session_state["leakage_chart"] = {
        "selection": {
            "points": [{"x": f"{month:%Y-%m-%d}", "curve_number": 0, "point_index": 1}],
            "point_indices": [1],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert at.selectbox(key="exc_month").value == month
    want = _sql(
        warehouse,
        "SELECT exception_key FROM marts.billing_exceptions WHERE month = ?",
        [month],
    )
    (count,) = _sql(
        warehouse, "SELECT exceptions FROM marts.billing_leakage_monthly WHERE month = ?", [month]
    )[0]
    assert len(want) == count  # the bar's exceptions are the list's rows
    shown = [d.value for d in at.dataframe if d.key == "exceptions"]
    got = set(shown[0]["exception_key"]) if shown else set()
    assert got == {r[0] for r in want}


def test_worklist_is_the_buckets_invoices(cash_page: AppTest, warehouse: Path) -> None:
    at = cash_page
    control = at.segmented_control(key="aging_bucket")
    summary = queries_cash.aging_summary(warehouse).set_index("bucket")
    for bucket in queries.AGING_BUCKETS:
        rows = _sql(
            warehouse,
            "SELECT invoice_id, open_amount FROM marts.ar_aging WHERE bucket = ?",
            [bucket],
        )
        want = {i for i, amount in rows if amount > 0}  # something to collect
        credits = {i for i, amount in rows if amount < 0}
        assert int(summary.loc[bucket, "credit_balances"]) == len(credits), bucket
        got = queries_cash.aging_worklist(warehouse, bucket)
        assert set(got["invoice_id"]) == want and len(got) == len(want), bucket
        if not want:
            continue
        control.set_value(bucket).run()
        assert not at.exception and not at.error
        shown = _frame(at, "invoice_date")
        assert set(shown["invoice_id"]) == want, bucket
        assert list(shown.columns[:6]) == [
            "account_id",
            "account_name",
            "invoice_id",
            "invoice_date",
            "due_date",
            "days_past_due",
        ]
        control = at.segmented_control(key="aging_bucket")
    # clicking a bucket's bar picks that bucket's worklist
    at.session_state["aging_chart"] = {
        "selection": {
            "points": [{"x": "1–30 days", "curve_number": 0, "point_index": 1}],
            "point_indices": [1],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception and not at.error
    assert at.segmented_control(key="aging_bucket").value == "1-30"


@pytest.mark.parametrize(
    "bucket", ["current' OR '1'='1", "1-30; DROP TABLE marts.ar_aging; --", "over_90 ", ""]
)
def test_malicious_bucket_is_refused(warehouse: Path, bucket: str) -> None:
    with pytest.raises(queries.NotAllowedError):
        queries_cash.aging_worklist(warehouse, bucket)
    with pytest.raises(queries.NotAllowedError):
        queries_cash.billing_exception_list(warehouse, exception_type=bucket)
    # a segment or region reaches SQL only as a bound value: it matches no account
    assert int(queries_cash.aging_summary(warehouse, bucket, bucket)["invoices"].sum()) == 0
    assert queries_cash.failed_payments(warehouse, segment=bucket).empty
    assert _sql(warehouse, "SELECT count(*) FROM marts.ar_aging")[0][0] > 0


def test_failed_payments_drill_lists_the_attempts_the_chart_counts(warehouse: Path) -> None:
    """A month's failed attempts listed = collections_monthly.failed_payments of that month."""
    months = _sql(
        warehouse,
        "SELECT month, failed_payments FROM marts.collections_monthly "
        "WHERE failed_payments > 0 ORDER BY month DESC LIMIT 3",
    )
    assert months
    for month, failed in months:
        listed = queries_cash.failed_payments(warehouse, month, month, limit=100_000)
        assert len(listed) == failed, month
        assert (listed["attempted_at"].dt.to_period("M").dt.start_time.dt.date == month).all()


def test_every_cash_query_runs_on_the_build(warehouse: Path) -> None:
    assert set(queries_cash.QUERIES) <= set(REGISTRY)
    month = _sql(warehouse, "SELECT max(month) FROM marts.billing_leakage_monthly")[0][0]
    calls = {
        "aging_worklist": ("over_90",),
        "billing_exception_list": (month, month, "missing_in_billing"),
    }
    for name, fn in queries_cash.QUERIES.items():
        df = fn(warehouse, *calls.get(name, ()))
        assert df is not None, name
    trend = queries_cash.collections_trend(warehouse)
    assert not trend.empty
    assert queries_cash.leakage_monthly(warehouse)["month"].is_monotonic_decreasing


def test_empty_receivables_and_leakage_are_explained(
    warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = copy_warehouse(warehouse_dir, tmp_path)
    execute(target, "DELETE FROM marts.ar_aging", "DELETE FROM marts.billing_leakage_monthly")
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    notes = " ".join(i.body for i in at.info)
    assert "No open receivables" in notes and "No billing exceptions" in notes
    assert "aging_bucket" not in {c.key for c in at.segmented_control}


def test_money_in_the_builds_currency(eur_warehouse: Path) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Accounts receivable"].lstrip("-").startswith("€")
    assert "(EUR)" in "\n".join(d.proto.columns for d in at.dataframe)
