"""Margins (R7): gross margin and cost to serve for the latest full month, margin by segment over
time, the cohort margin heatmap, and vendor spend with the bills lacking an approved PO.

Every figure is a column of a margins mart (or its sum over the mart's rows); the gross margin %
tile is kpi_monthly's, the same number as the Overview's."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.fmt import Currency

#: Cost-to-serve columns of account_margin_monthly and how the page names them.
COST_KINDS = {
    "cogs_vendor_usd": "Vendor",
    "cogs_support_usd": "Support",
    "cogs_implementation_usd": "Implementation",
}
EMPTY = (
    "No account has revenue or cost in this build yet, so there is no margin to show. Margins "
    "appear once invoices, vendor bills, tickets or implementation hours are loaded."
)


def _tiles(wh: Warehouse, run: dict, cur: Currency, totals: pd.DataFrame) -> None:
    """Latest full month: COGS by kind, gross margin (amount and, from kpi_monthly, %)."""
    month = fmt.latest_full_month(list(totals["month"]), ui.as_of(run))
    row = None if month is None else ui.row_for(totals, month)
    if month is None or row is None:
        return
    prev = ui.prior_row(totals, month)
    st.subheader(f"{fmt.month_label(month)}: gross margin and cost to serve")
    boxes = st.columns(6)
    with boxes[0]:
        kpi = kpi_prev = None
        if ui.has(wh, "kpi_monthly"):
            kpis = query(wh, "kpis_by_month", ui.as_of_month(run))
            kpi, kpi_prev = ui.row_for(kpis, month), ui.prior_row(kpis, month)
        if kpi is None:
            ui.not_built("kpi_monthly", "Gross margin")
        else:
            ui.tile(
                "Gross margin",
                fmt.pct(kpi["gross_margin_pct"]),
                fmt.delta_pp(kpi["gross_margin_pct"], _get(kpi_prev, "gross_margin_pct")),
                help="kpi_monthly.gross_margin_pct (as on the Overview).",
            )
    items = [("gross_margin_usd", "Gross margin amount", False), ("cogs_usd", "COGS", True)]
    items += [(c, f"{label} cost", True) for c, label in COST_KINDS.items()]
    for box, (col, label, inverse) in zip(boxes[1:], items, strict=True):
        with box:
            ui.tile(
                label,
                fmt.money_short(row[col], cur),
                fmt.delta_money(row[col], _get(prev, col), cur),
                inverse=inverse,
            )
    complete = None if kpi is None else kpi["cogs_is_complete"]
    if not fmt.is_missing(complete) and not bool(complete):
        st.caption(
            "Vendor COGS of this month is provisional (kpi_monthly.cogs_is_complete): recurring "
            "vendors bill in arrears, and bills still to arrive will add to it."
        )


def _get(row: pd.Series | None, col: str) -> object:
    return None if row is None else row[col]


def _segments(wh: Warehouse, run: dict, cur: Currency) -> None:
    st.subheader("Gross margin by segment")
    df = query(wh, "margin_by_segment", ui.as_of_month(run))
    st.caption(
        "No mart carries margin by product family (vendor COGS is allocated to accounts), so "
        "margin is broken down by the accounts' segment. Segment margin % = Σ gross margin / "
        "Σ revenue of its accounts; n/a when that revenue is 0."
    )
    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(
            charts.money_lines(df, "segment", "gross_margin_usd", "Gross margin", cur),
            width="stretch",
        )
    with right:
        st.plotly_chart(
            charts.rate_by_group(df, "segment", "gross_margin_pct", "Gross margin % by segment"),
            width="stretch",
        )
    with st.expander("Margin by segment and month (table)", expanded=False):
        table = df.iloc[::-1]
        ui.table(table, cur, percent=["gross_margin_pct"])


def _cohorts(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Cohort margin")
    df = query(wh, "cohort_margin")
    if df.empty:
        st.info("No cohort yet: no account has had MRR in this build.")
        return
    st.plotly_chart(charts.cohort_heatmap(df, "gross margin %"), width="stretch")
    st.caption(
        "cohort_margin.gross_margin_pct per cohort (month of first MRR) and months since start; "
        "empty cells had no revenue."
    )
    with st.expander("Cohort margin (table)", expanded=False):
        ui.table(df, cur, percent=["gross_margin_pct"], hide=["value"])


def _vendors(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Vendor spend")
    df = query(wh, "vendor_spend")
    if df.empty:
        st.info("No vendor bills in this build.")
        return
    no_po = df[df["bills_without_approved_po"] > 0]
    st.caption(
        f"All months, each bill at its bill-date rate; opex never enters COGS. "
        f"{int(no_po['bills_without_approved_po'].sum()):,} bills from {len(no_po):,} "
        "vendor lines lack an approved PO."
    )
    st.plotly_chart(
        charts.vendor_spend_months(query(wh, "vendor_spend_months"), cur), width="stretch"
    )
    ui.table(df, cur, money=["amount"], height=320, key="vendor_spend")
    if ui.has(wh, "cogs_reconciliation_monthly"):
        with st.expander("Vendor COGS allocation by month (reconciliation)", expanded=False):
            rec = query(wh, "cogs_reconciliation")
            ui.table(rec, cur)


def render(wh: Warehouse) -> None:
    st.title("Margins")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    if not ui.has(wh, "account_margin_monthly"):
        ui.not_built("account_margin_monthly", "Gross margin and cost to serve")
    else:
        totals = query(wh, "margin_totals", ui.as_of_month(run))
        if totals.empty:
            st.info(EMPTY, icon=":material/info:")
        else:
            _tiles(wh, run, cur, totals)
            st.plotly_chart(charts.cost_to_serve(totals, COST_KINDS, cur), width="stretch")
            _segments(wh, run, cur)
    if ui.has(wh, "cohort_margin"):
        _cohorts(wh, cur)
    else:
        ui.not_built("cohort_margin", "Cohort margin")
    if ui.has(wh, "vendor_spend_monthly"):
        _vendors(wh, cur)
    else:
        ui.not_built("vendor_spend_monthly", "Vendor spend")


ui.guarded(render)
