"""Margins (R7): gross margin and cost to serve, by product family and by segment over time, the
cohort margin heatmap, and vendor spend with the bills lacking an approved PO.

Every margin figure is one row of gross_margin_monthly (month × segment × region × product
family, each also 'all'): the global filters pick the row, so the page adds nothing up and
computes no ratio. The tiles show the period's last month against the comparison month. Cohort
margin and vendor spend are company-wide (their marts carry no segment, region or family): only
the period applies to them. Clicking a vendor's bar lists its months."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, links, sidebar, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters
from dashboards.lib.fmt import Currency

ALL = "All"
#: Cost-to-serve columns of gross_margin_monthly and how the page names them.
COST_KINDS = {
    "cogs_vendor_usd": "Vendor",
    "cogs_support_usd": "Support",
    "cogs_implementation_usd": "Implementation",
}
EMPTY = (
    "No revenue or cost in these months for this selection, so there is no margin to show. "
    "Margins appear once invoices, vendor bills, tickets or implementation hours are loaded."
)
NO_DIMENSIONS = "Company-wide: the segment, region and product family filters don't apply."
VENDOR_LABELS = {
    "bills_without_approved_po": "Bills without approved PO",
    "amount_without_approved_po_usd": "Without approved PO",
    "missing_fx_bills": "Bills without FX rate",
}


def _get(row: pd.Series | None, col: str) -> Any:
    return None if row is None else row[col]


def _tiles(wh: Warehouse, f: Filters, month: dt.date, cube: pd.DataFrame, cur: Currency) -> None:
    """The tile month's cell of the cube: gross margin %, amount, COGS and its kinds, each
    against the comparison month."""
    row = ui.row_for(cube, month)
    st.subheader(f"{fmt.month_label(month)}: gross margin and cost to serve")
    if row is None:
        st.info(f"No revenue or cost in {fmt.month_label(month)} for this selection.")
        return
    prev = ui.row_for(cube, f.compare_to(month))
    vs = links.compared_with(f)
    st.caption(f"gross_margin_monthly for {f.describe()}")
    items = [("gross_margin_usd", "Gross margin amount", False), ("cogs_usd", "COGS", True)]
    items += [(c, f"{label} cost", True) for c, label in COST_KINDS.items()]
    margin = row["gross_margin_pct"]
    ui.tiles(
        [
            ui.Tile(
                "Gross margin",
                "n/a" if fmt.is_missing(margin) else fmt.pct(margin),
                fmt.delta_pp(margin, _get(prev, "gross_margin_pct")),
                delta_description=vs,
                help="gross_margin_monthly.gross_margin_pct of this selection (with no filter, "
                "kpi_monthly's, as on the Overview); n/a without revenue.",
            ),
            *(
                ui.Tile(
                    label,
                    fmt.money_short(row[col], cur),
                    fmt.delta_money(row[col], _get(prev, col), cur),
                    inverse=inverse,
                    delta_description=vs,
                )
                for col, label, inverse in items
            ),
        ],
        3,  # two rows: room for "vs Sep 2026 (MoM)"
    )
    if ui.has(wh, "kpi_monthly"):
        kpi = ui.row_for(query(wh, "kpis_by_month", month), month)
        complete = None if kpi is None else kpi["cogs_is_complete"]
        if not fmt.is_missing(complete) and not bool(complete):
            st.caption(
                "Vendor COGS of this month is provisional (kpi_monthly.cogs_is_complete): "
                "recurring vendors bill in arrears, and bills still to arrive will add to it."
            )


#: Cube members that are not a product family or segment: shown in amounts and tables, left out
#: of the margin % chart (credit notes alone or costs without revenue make that ratio noise).
NOT_A_GROUP = ("(none)", "(unallocated)")


def _breakdown(df: pd.DataFrame, group: str, what: str, cur: Currency) -> None:
    """Gross margin amount and % per month, one line per `group` value, and the table."""
    rates = df[~df[group].isin(NOT_A_GROUP)]
    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(
            charts.money_lines(df, group, "gross_margin_usd", f"Gross margin by {what}", cur),
            width="stretch",
        )
    with right:
        st.plotly_chart(
            charts.rate_by_group(rates, group, "gross_margin_pct", f"Gross margin % by {what}"),
            width="stretch",
        )
    with st.expander(f"Gross margin by {what} and month (table)", expanded=False):
        ui.table(df.iloc[::-1], cur, percent=["gross_margin_pct"])


def _margins(wh: Warehouse, run: dict, f: Filters, cur: Currency) -> None:
    month = f.end or ui.as_of_month(run)
    since = None if f.start is None or month is None else min(f.start, f.compare_to(month))
    cube = query(wh, "margin_cube", since, month, f.segment, f.region, f.product_family)
    if cube.empty:
        st.info(EMPTY, icon=":material/info:")
        return
    if month is not None:
        _tiles(wh, f, month, cube, cur)
    period = cube if f.start is None else cube[cube["month"].map(fmt.as_date) >= f.start]
    if not period.empty:
        st.plotly_chart(charts.cost_to_serve(period, COST_KINDS, cur), width="stretch")
    dims = (f.start, f.end, f.segment, f.region, f.product_family)
    st.subheader("Gross margin by product family")
    st.caption(
        "Revenue by its product family; vendor COGS as allocated to families, support and "
        "implementation cost split over each account's families by revenue. Segment and region "
        "filters apply. `(none)`: credit notes without one family; `(unallocated)`: vendor cost "
        "no account carried."
    )
    by_family = query(wh, "margin_by_family", *dims)
    if by_family.empty:
        st.info("No product family has revenue or cost in these months for this selection.")
    else:
        _breakdown(by_family, "product_family", "product family", cur)
    st.subheader("Gross margin by segment")
    st.caption(
        "Accounts' segment; region and product family filters apply. `(unallocated)`: vendor "
        "cost no account carried (its margin % is n/a: it has no revenue)."
    )
    by_segment = query(wh, "margin_by_segment", *dims)
    if by_segment.empty:
        st.info("No segment has revenue or cost in these months for this selection.")
    else:
        _breakdown(by_segment, "segment", "segment", cur)


def _cohorts(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Cohort margin")
    df = query(wh, "cohort_margin", f.start, f.end)
    if df.empty:
        st.info("No cohort started in these months: no account had its first MRR in them.")
        return
    st.plotly_chart(charts.cohort_heatmap(df, "gross margin %"), width="stretch")
    st.caption(
        "cohort_margin.gross_margin_pct per cohort (month of first MRR) and months since start: "
        "the cohorts that started in the period, up to its last month; empty cells had no "
        f"revenue. {NO_DIMENSIONS}"
    )
    with st.expander("Cohort margin (table)", expanded=False):
        ui.table(df, cur, percent=["gross_margin_pct"], hide=["value"])


def _vendors(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Vendor spend")
    df = query(wh, "vendor_spend", f.start, f.end)
    if df.empty:
        st.info("No vendor bills in these months.")
        return
    no_po = df[df["bills_without_approved_po"] > 0]
    st.caption(
        f"Each bill at its bill-date rate; opex never enters COGS. "
        f"{int(no_po['bills_without_approved_po'].sum()):,} bills from {len(no_po):,} "
        f"vendor lines lack an approved PO. {NO_DIMENSIONS}"
    )
    left, right = st.columns(2, gap="medium")
    top = query(wh, "vendor_totals", f.start, f.end)
    event = left.plotly_chart(
        charts.vendor_bars(top, cur),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key="vendor_chart",
    )
    right.plotly_chart(
        charts.vendor_spend_months(query(wh, "vendor_spend_months", f.start, f.end), cur),
        width="stretch",
    )
    ui.table(df, cur, money=["amount"], labels=VENDOR_LABELS, height=320, key="vendor_spend")
    vendors = dict(
        df.drop_duplicates("vendor_id")[["vendor_id", "vendor_name"]].itertuples(index=False)
    )
    by_name = dict(zip(top["vendor_name"], top["vendor_id"], strict=True))
    clicked = by_name.get(links.selected_label(event, axis="y") or "")
    links.follow_click("vendor_pick", clicked, [None, *vendors])
    vendor = st.selectbox(
        "Months of vendor (or click its bar)",
        list(vendors),
        index=None,
        format_func=lambda v: f"{vendors[v]} ({v})",
        placeholder="Choose a vendor",
        key="vendor_pick",
    )
    if vendor is not None:
        months = query(wh, "vendor_months", vendor, f.start, f.end)
        st.caption(
            f"{vendors[vendor]}: spend by month, cost type and currency, with its bills lacking "
            "an approved PO (no mart lists single bills)."
        )
        ui.table(
            months, cur, money=["amount"], labels=VENDOR_LABELS, height=280, key="vendor_months"
        )
    if ui.has(wh, "cogs_reconciliation_monthly"):
        with st.expander("Vendor COGS allocation by month (reconciliation)", expanded=False):
            ui.table(query(wh, "cogs_reconciliation", f.start, f.end), cur)


def render(wh: Warehouse) -> None:
    st.title("Margins")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    f = sidebar.current()
    if ui.has(wh, "gross_margin_monthly"):
        _margins(wh, run, f, cur)
    else:
        ui.not_built("gross_margin_monthly", "Gross margin and cost to serve")
    if ui.has(wh, "cohort_margin"):
        _cohorts(wh, f, cur)
    else:
        ui.not_built("cohort_margin", "Cohort margin")
    if ui.has(wh, "vendor_spend_monthly"):
        _vendors(wh, f, cur)
    else:
        ui.not_built("vendor_spend_monthly", "Vendor spend")


ui.guarded(render)
