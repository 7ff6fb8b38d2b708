"""Revenue: revenue by product family, the deferred revenue roll-forward, invoices.

Two recognition figures appear here under two names: "Revenue (recognized)" (month-end rates, the
Overview's tile) and the waterfall's "Recognized at invoice-date rates"; the mart's FX difference
line, when built, ties them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, labels, queries, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.fmt import Currency

ALL = "All"


#: Headers of the roll-forward table where the column name alone would mislead.
WATERFALL_LABELS = {
    "recognized_usd": labels.RECOGNIZED_AT_INVOICE_RATES,
    queries.WATERFALL_FX_DIFFERENCE_COLUMN: labels.FX_DIFFERENCE,
}


def _tiles(wh: Warehouse, run: dict, cur: Currency) -> None:
    """Latest full month: revenue (as on the Overview), billings, closing deferred and unbilled;
    then how the waterfall's recognition (invoice-date rates) relates to revenue."""
    df = query(wh, "deferred_rollforward")
    month = fmt.latest_full_month(list(df["month"]), ui.as_of(run))
    row = None if month is None else ui.row_for(df, month)
    if month is None or row is None:
        return
    prev = ui.prior_row(df, month)
    kpi = kpi_prev = None
    if ui.has(wh, "kpi_monthly"):
        kpis = query(wh, "kpis_by_month", ui.as_of_month(run))
        kpi, kpi_prev = ui.row_for(kpis, month), ui.prior_row(kpis, month)

    st.subheader(f"{fmt.month_label(month)}: revenue, billings and deferred revenue")
    boxes = st.columns(4)
    with boxes[0]:
        if kpi is None:
            ui.not_built("kpi_monthly", labels.REVENUE)
        else:
            ui.tile(
                labels.REVENUE,
                fmt.money_short(kpi["revenue_usd"], cur),
                fmt.delta_money(kpi["revenue_usd"], _get(kpi_prev, "revenue_usd"), cur),
                help=labels.REVENUE_HELP,
            )
    for box, (col, label) in zip(
        boxes[1:],
        [
            ("billings_usd", "Billings"),
            ("closing_usd", "Closing deferred revenue"),
            ("unbilled_usd", "Unbilled (recognized, not invoiced)"),
        ],
        strict=True,
    ):
        with box:
            ui.tile(
                label,
                fmt.money_short(row[col], cur),
                fmt.delta_money(row[col], _get(prev, col), cur),
            )
    _fx_note(row, kpi, cur)


def _get(row: pd.Series | None, col: str) -> Any:
    return None if row is None else row[col]


def _fx_note(row: pd.Series, kpi: pd.Series | None, cur: Currency) -> None:
    """Say which figure is which; with the mart's FX line, show that the two tie."""
    recognized = fmt.money(row["recognized_usd"], cur)
    fx_col = queries.WATERFALL_FX_DIFFERENCE_COLUMN
    if kpi is not None and fx_col in row:
        st.caption(
            f"{labels.RECOGNIZED_AT_INVOICE_RATES} {recognized} + {labels.FX_DIFFERENCE} "
            f"{fmt.money(row[fx_col], cur)} = {labels.REVENUE} "
            f"{fmt.money(kpi['revenue_usd'], cur)} (month-end rates)."
        )
    else:
        revenue = "" if kpi is None else f" ({fmt.money(kpi['revenue_usd'], cur)})"
        st.caption(
            "The deferred revenue waterfall converts each line at its invoice-date rate "
            f"({labels.RECOGNIZED_AT_INVOICE_RATES.lower()}: {recognized}); "
            f"{labels.REVENUE}{revenue} converts at the month-end rate."
        )


def _invoices(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Invoices")
    accounts = query(wh, "accounts")
    months = [fmt.as_date(m) for m in query(wh, "invoice_months")["month"]]
    names = dict(zip(accounts["account_id"], accounts["account_name"], strict=True))
    f1, f2, f3 = st.columns([2, 1, 1])
    account = f1.selectbox(
        "Account",
        [ALL, *accounts["account_id"]],
        format_func=lambda a: "All accounts" if a == ALL else f"{names.get(a)} ({a})",
        key="inv_account",
    )
    month: dt.date | str = f2.selectbox(
        "Invoice month",
        [ALL, *months],
        format_func=lambda m: "All months" if m == ALL else fmt.month_label(m),
        key="inv_month",
    )
    limit = f3.selectbox("Show", [100, 500, 2000], index=0, key="inv_limit")
    df = query(
        wh,
        "invoices",
        None if account == ALL else account,
        None if month == ALL else month,
        limit,
    )
    if df.empty:
        st.info("No invoices match these filters.")
        return
    st.caption(
        f"{len(df):,} invoices shown, newest first (limit {limit:,}). Select one for its lines."
    )
    event = st.dataframe(
        df,
        width="stretch",
        hide_index=True,
        column_config=ui.money_config(df, cur, ["amount"]),
        on_select="rerun",
        selection_mode="single-row",
        key="inv_table",
        height=320,
    )
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    if rows and ui.has(wh, "fct_invoice_lines"):
        key = df.iloc[rows[0]]["invoice_key"]
        st.markdown(f"**Lines of `{key}`**")
        lines = query(wh, "invoice_lines", key)
        ui.table(lines, cur, money=["amount", "quantity"])


def render(wh: Warehouse) -> None:
    st.title("Revenue")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    if ui.has(wh, "deferred_revenue_monthly"):
        _tiles(wh, run, cur)

    left, right = st.columns(2, gap="medium")
    with left:
        if ui.has(wh, "fct_revenue_schedule"):
            st.plotly_chart(
                charts.revenue_by_family(query(wh, "revenue_by_family", ui.as_of_month(run)), cur),
                width="stretch",
            )
        else:
            ui.not_built("fct_revenue_schedule", f"{labels.REVENUE} by product family")
    with right:
        if ui.has(wh, "deferred_revenue_monthly"):
            st.plotly_chart(
                charts.deferred_rollforward(query(wh, "deferred_rollforward"), cur),
                width="stretch",
            )
        else:
            ui.not_built("deferred_revenue_monthly", "Deferred revenue roll-forward")

    if ui.has(wh, "deferred_revenue_monthly"):
        with st.expander(
            "Deferred revenue roll-forward table (opening + billings − recognized + unbilled "
            "change = closing; invoice-date rates)",
            expanded=False,
        ):
            roll = query(wh, "deferred_rollforward").iloc[::-1]
            ui.table(
                roll.assign(month=roll["month"].map(fmt.month_label)), cur, labels=WATERFALL_LABELS
            )

    if ui.has(wh, "fct_invoices") and ui.has(wh, "dim_accounts"):
        _invoices(wh, cur)
    else:
        ui.not_built("fct_invoices", "Invoices")

    st.subheader("Receivables")
    left, right = st.columns(2, gap="medium")
    with left:
        if ui.has(wh, "ar_aging"):
            st.plotly_chart(charts.aging_bars(query(wh, "ar_aging_buckets"), cur), width="stretch")
        else:
            ui.not_built("ar_aging", "AR aging")
    with right:
        if ui.has(wh, "collections_monthly"):
            coll = query(wh, "collections").iloc[::-1]
            ui.table(
                coll.assign(month=coll["month"].map(fmt.month_label)),
                cur,
                percent=["failed_payment_rate"],
                height=300,
            )
        else:
            ui.not_built("collections_monthly", "Collections and DSO")


ui.guarded(render)
