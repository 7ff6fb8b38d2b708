"""The Cash page on the warehouse the real pipeline built: it renders, its AR and bucket totals
are the marts', the worklist of a bucket is exactly ar_aging's invoices of that bucket, a bucket
outside the five labels never reaches SQL, and every query of `queries_cash` runs on the build."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pipeline_warehouse
import pytest
from pipeline_warehouse import copy_warehouse, execute
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


def test_page_renders_with_mart_totals(cash_page: AppTest, warehouse: Path) -> None:
    at = cash_page
    assert at.title[0].value == "Cash"
    (ar,) = _sql(warehouse, "SELECT sum(open_usd) FROM marts.ar_aging")[0]
    (ar_month,) = _sql(
        warehouse, "SELECT ar_usd FROM marts.collections_monthly ORDER BY month DESC LIMIT 1"
    )[0]
    assert ar == ar_month  # the mart's own tie-out, which the tile relies on
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Accounts receivable"] == fmt.money_short(ar, fmt.currency("USD"))
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


def test_worklist_is_the_buckets_invoices(cash_page: AppTest, warehouse: Path) -> None:
    at = cash_page
    control = at.segmented_control(key="aging_bucket")
    for bucket in queries.AGING_BUCKETS:
        want = {
            r[0]
            for r in _sql(
                warehouse, "SELECT invoice_id FROM marts.ar_aging WHERE bucket = ?", [bucket]
            )
        }
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


@pytest.mark.parametrize(
    "bucket", ["current' OR '1'='1", "1-30; DROP TABLE marts.ar_aging; --", "over_90 ", ""]
)
def test_malicious_bucket_is_refused(warehouse: Path, bucket: str) -> None:
    with pytest.raises(queries.NotAllowedError):
        queries_cash.aging_worklist(warehouse, bucket)
    with pytest.raises(queries.NotAllowedError):
        queries_cash.billing_exception_list(warehouse, exception_type=bucket)
    assert _sql(warehouse, "SELECT count(*) FROM marts.ar_aging")[0][0] >= 0


def test_every_cash_query_runs_on_the_build(warehouse: Path) -> None:
    assert set(queries_cash.QUERIES) <= set(REGISTRY)
    month = _sql(warehouse, "SELECT max(month) FROM marts.billing_leakage_monthly")[0][0]
    calls = {
        "aging_worklist": ("over_90",),
        "billing_exception_list": (month, "missing_in_billing"),
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
    assert "aging_bucket" not in [c.key for c in at.segmented_control]


def test_money_in_the_builds_currency(eur_warehouse: Path) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Accounts receivable"].lstrip("-").startswith("€")
    assert "(EUR)" in "\n".join(d.proto.columns for d in at.dataframe)
