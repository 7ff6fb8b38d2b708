"""The Revenue and Customers & retention pages' new sections on the warehouse the real pipeline
built: ARR by segment / region / product family equals the sums of fct_mrr_by_plan_monthly, a
clicked bar lists the accounts that add up to it, the churn table's causes are the mart's and its
cause totals are mrr_bridge_monthly's, revenue vs billings is kpi_monthly's, the global segment
filter narrows every account view, the cohort heatmap's three views render and a clicked cell
lists exactly that cell's accounts. Selections are simulated through session state (AppTest
reads a chart's or table's selection from its key)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pipeline_warehouse
import pytest
from pipeline_warehouse import LATEST_FULL_MONTH
from streamlit.testing.v1 import AppTest

from dashboards.lib import filters, links, queries, queries_revenue
from dashboards.lib.cache import REGISTRY

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
REVENUE, CUSTOMERS = "app_pages/revenue.py", "app_pages/customers.py"
#: The default period: the twelve full months up to the latest.
START, END = filters.add_months(LATEST_FULL_MONTH, -11), LATEST_FULL_MONTH


def _sql(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    return pipeline_warehouse.rows(path, sql, params)


def _open(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception and not at.error, (at.exception, at.error)


def _table(at: AppTest, key: str | None = None, column: str | None = None) -> pd.DataFrame:
    """A table by its key, or the first one with `column`."""
    for d in at.dataframe:
        if (key is not None and d.key == key) or (column is not None and column in d.value):
            return d.value
    raise AssertionError(f"no table {key or column!r}")


def _dec(values: Any) -> list[Decimal]:
    return [Decimal(str(v)) for v in values]


def _points(*customdata: list[str]) -> dict[str, Any]:
    """A chart selection as the browser reports it (points carry their customdata)."""
    points = [{"customdata": c} for c in customdata]
    return {"selection": {"points": points, "point_indices": [0], "box": [], "lasso": []}}


def _rows(*rows: int) -> dict[str, Any]:
    return {"selection": {"rows": list(rows), "columns": [], "cells": []}}


@pytest.fixture(scope="module")
def churn_segment(warehouse_dir: Path) -> str:
    """The segment of the period's largest churn (it has expansions too in the test company)."""
    return _sql(
        warehouse_dir / "current.duckdb",
        "SELECT a.segment FROM marts.fct_mrr_movements AS v JOIN marts.dim_accounts AS a "
        "USING (account_id) WHERE v.movement_type = 'churn' AND v.month BETWEEN ? AND ? "
        "ORDER BY v.amount_usd LIMIT 1",
        [START, END],
    )[0][0]


def test_arr_breakdowns_equal_the_marts_sums(warehouse: Path) -> None:
    at = _open(REVENUE)
    for by in queries_revenue.ARR_BREAKDOWNS:
        if by != "segment":
            at.segmented_control(key="arr_by").set_value(by).run()
            _ok(at)
        want = {
            k: v
            for k, v in _sql(
                warehouse,
                f"SELECT coalesce({by}, 'unknown'), sum(arr_usd) "
                "FROM marts.fct_mrr_by_plan_monthly WHERE month = ? GROUP BY 1",
                [END],
            )
        }
        shown = _table(at, column="breakdown")
        assert dict(zip(shown["breakdown"], _dec(shown["arr_usd"]), strict=True)) == want, by
        assert f"ARR by {by.replace('_', ' ')}" in "\n".join(
            c.proto.spec for c in at.get("plotly_chart")
        )


def test_revenue_page_with_a_segment_filter(warehouse: Path, churn_segment: str) -> None:
    seg = churn_segment
    at = _open(REVENUE, segment=seg)
    (want,) = _sql(
        warehouse,
        "SELECT sum(arr_usd) FROM marts.fct_mrr_by_plan_monthly WHERE month = ? AND segment = ?",
        [END, seg],
    )[0]
    shown = _table(at, column="breakdown")
    assert list(shown["breakdown"]) == [seg] and _dec(shown["arr_usd"]) == [want]
    for key in ("top_expansion", "top_churn", "inv_table"):
        df = _table(at, key=key)
        if "segment" not in df:
            names = queries_revenue.filtered_accounts(warehouse, seg)["account_id"]
            assert set(df["account_id"]) <= set(names), key
        else:
            assert set(df["segment"]) == {seg}, key
    # the churn table: each row's cause is the mart's; largest loss first
    churn = _table(at, key="top_churn")
    marts = {
        (a, m, c): amount
        for a, m, c, amount in _sql(
            warehouse,
            "SELECT account_id, month, movement_cause, amount_usd FROM marts.fct_mrr_movements "
            "WHERE movement_type = 'churn' AND month BETWEEN ? AND ?",
            [START, END],
        )
    }
    rows = zip(churn["account_id"], churn["month"], churn["movement_cause"], strict=True)
    assert all((a, pd.Timestamp(m).date(), c) in marts for a, m, c in rows)
    assert set(churn["movement_cause"]) <= set(queries_revenue.CHURN_CAUSES)
    assert list(churn["amount_usd"]) == sorted(churn["amount_usd"])
    # the cause tiles: sums of mrr_bridge_monthly's columns over the period (company-wide)
    cols = ["churn_usd", *queries_revenue.CHURN_CAUSES.values()]
    sums = _sql(
        warehouse,
        f"SELECT {', '.join(f'sum({c})' for c in cols)} FROM marts.mrr_bridge_monthly "
        "WHERE month BETWEEN ? AND ?",
        [START, END],
    )[0]
    totals = queries_revenue.movement_totals(warehouse, START, END).iloc[0]
    assert [totals[c] for c in cols] == list(sums)
    tiles = {m.label for m in at.metric}
    assert {"Churn: cancelled", "Churn: paused", "Churned MRR"} <= tiles


def test_arr_bar_and_churn_row_drill_down(warehouse: Path, churn_segment: str) -> None:
    seg = churn_segment
    at = _open(REVENUE)
    at.session_state["arr_chart_segment"] = _points([END.isoformat(), seg])
    at.session_state["top_churn"] = _rows(0)
    at.run()
    _ok(at)
    accounts = _table(at, key="arr_accounts")
    want = _sql(
        warehouse,
        "SELECT account_id, sum(arr_usd) FROM marts.fct_mrr_by_plan_monthly "
        "WHERE month = ? AND segment = ? GROUP BY 1",
        [END, seg],
    )
    assert dict(zip(accounts["account_id"], _dec(accounts["arr_usd"]), strict=True)) == dict(want)
    bar = _table(at, column="breakdown")
    assert sum(_dec(accounts["arr_usd"])) == _dec(bar.loc[bar["breakdown"] == seg, "arr_usd"])[0]
    # the first churn row's account is offered in Account 360 (a link carrying its id)
    first = _table(at, key="top_churn").iloc[0]
    links = [str(link.proto) for link in at.get("page_link")]
    assert [p for p in links if f"account={first['account_id']}" in p and "Account 360" in p], links


def test_revenue_vs_billings_is_kpi_monthly(warehouse: Path) -> None:
    df = queries_revenue.revenue_vs_billings(warehouse, START, END)
    want = _sql(
        warehouse,
        "SELECT month, revenue_usd, billings_usd, deferred_revenue_usd FROM marts.kpi_monthly "
        "WHERE month BETWEEN ? AND ? ORDER BY month",
        [START, END],
    )
    assert [tuple(r) for r in df.itertuples(index=False)] == want and len(want) == 12


def test_customers_page_with_a_segment_filter_and_the_cohort_views(
    warehouse: Path, churn_segment: str
) -> None:
    seg = churn_segment
    at = _open(CUSTOMERS, segment=seg)
    assert not [m for m in at.multiselect if m.key in ("acct_segments", "acct_regions")]
    top = _table(at, key="top_accounts")
    assert not top.empty and set(top["segment"]) == {seg}
    assert set(_table(at, column="gross_margin_pct")["segment"]) == {seg}
    for view, title in (("logo", "logo retention"), ("mrr", "MRR retention")):
        at.segmented_control(key="cohort_metric").set_value(view).run()
        _ok(at)
        assert f"Cohort {title}" in "\n".join(c.proto.spec for c in at.get("plotly_chart"))
    at.segmented_control(key="cohort_metric").set_value("margin").run()
    _ok(at)
    assert "Cohort gross margin %" in "\n".join(c.proto.spec for c in at.get("plotly_chart"))


def test_a_cohort_cell_lists_its_accounts(warehouse: Path) -> None:
    cohort, month, active, revenue = _sql(
        warehouse,
        "SELECT r.cohort_month, r.month, r.active_accounts, m.revenue_usd "
        "FROM marts.cohort_retention AS r "
        "JOIN marts.cohort_margin AS m USING (cohort_month, month) "
        "WHERE r.month <= ? ORDER BY r.active_accounts DESC, r.cohort_month LIMIT 1",
        [END],
    )[0]
    at = _open(CUSTOMERS)
    at.session_state["cohort_chart_logo"] = _points([cohort.isoformat(), month.isoformat()])
    at.run()
    _ok(at)
    assert at.selectbox(key="cohort_cell_cohort").value == cohort
    assert at.selectbox(key="cohort_cell_month").value == month
    listed = _table(at, key="cohort_accounts")
    want = _sql(
        warehouse,
        "SELECT a.account_id FROM marts.dim_accounts AS a JOIN marts.fct_mrr_monthly AS r "
        "USING (account_id) WHERE a.cohort_month = ? AND r.month = ? AND r.mrr > 0",
        [cohort, month],
    )
    assert set(listed["account_id"]) == {a for (a,) in want} and len(listed) == active
    # the margin view lists revenue, COGS and margin %; the revenue adds up to the cell's
    at.segmented_control(key="cohort_metric").set_value("margin").run()
    _ok(at)
    listed = _table(at, key="cohort_accounts")
    assert {"revenue_usd", "cogs_usd", "gross_margin_pct"} <= set(listed.columns)
    assert sum(_dec(listed["revenue_usd"].dropna())) == revenue
    assert int(listed["active"].sum()) == active


def test_filter_values_are_bound_and_names_allow_listed(warehouse: Path) -> None:
    bad = "smb' OR '1'='1; DROP TABLE marts.dim_accounts; --"
    assert queries_revenue.arr_by_dimension(warehouse, "segment", segment=bad).empty
    assert queries_revenue.top_movements(warehouse, "churn", region=bad).empty
    assert queries_revenue.arr_accounts(warehouse, END, "segment", bad).empty
    for call in (
        lambda: queries_revenue.arr_by_dimension(warehouse, "segment; DROP TABLE x"),
        lambda: queries_revenue.top_movements(warehouse, "churn' OR 1=1 --"),
        lambda: queries_revenue.cohort_view(warehouse, "../margin"),
    ):
        with pytest.raises(queries.NotAllowedError):
            call()
    assert _sql(warehouse, "SELECT count(*) FROM marts.dim_accounts")[0][0] > 0
    # every query is registered once: no name of another module is shadowed
    assert set(queries_revenue.QUERIES) <= set(REGISTRY)
    assert not set(queries_revenue.QUERIES) & set(queries.QUERIES)


def test_selection_events_are_read_by_item() -> None:
    day = dt.date(2026, 10, 1)
    assert links.picked_point(_points([day.isoformat(), "smb"])) == (day, "smb")
    for event in (None, {}, {"selection": {}}, _points(["not a date", "x"]), _points(["x"])):
        assert links.picked_point(event) is None
    frame = pd.DataFrame({"a": [1, 2]})
    assert links.picked_row(_rows(1), frame)["a"] == 2
    assert links.picked_row(_rows(5), frame) is None and links.picked_row(None, frame) is None
