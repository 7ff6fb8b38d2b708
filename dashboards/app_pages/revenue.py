"""Revenue: recognized revenue by product family, the deferred revenue roll-forward, invoices."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboards.lib import charts, fmt, ui
from dashboards.lib.cache import Warehouse, query

ALL = "All"


def _tiles(wh: Warehouse, run: dict) -> None:
    """Latest full month's billings, recognition and closing deferred (deferred_revenue_monthly)."""
    df = query(wh, "deferred_rollforward")
    month = fmt.latest_full_month(list(df["month"]), ui.as_of(run))
    if month is None:
        return
    cur, prev = ui.row_for(df, month), ui.prior_row(df, month)
    if cur is None:
        return

    def p(col: str) -> object:
        return None if prev is None else prev[col]

    st.subheader(f"{fmt.month_label(month)}: billings and recognition")
    cols = st.columns(4)
    for box, (col, label) in zip(
        cols,
        [
            ("recognized_usd", "Recognized revenue"),
            ("billings_usd", "Billings"),
            ("closing_usd", "Closing deferred revenue"),
            ("unbilled_usd", "Unbilled (recognized, not invoiced)"),
        ],
        strict=True,
    ):
        with box:
            ui.tile(label, fmt.money_short(cur[col]), fmt.delta_money(cur[col], p(col)))


def _invoices(wh: Warehouse) -> None:
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
        column_config=ui.money_config(df, ["amount"]),
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
        ui.table(lines, money=["amount", "quantity"])


def render(wh: Warehouse) -> None:
    st.title("Revenue")
    run = ui.build_caption(wh)
    if ui.has(wh, "deferred_revenue_monthly"):
        _tiles(wh, run)

    left, right = st.columns(2, gap="medium")
    with left:
        if ui.has(wh, "fct_revenue_schedule"):
            st.plotly_chart(
                charts.revenue_by_family(query(wh, "revenue_by_family", ui.as_of_month(run))),
                width="stretch",
            )
        else:
            ui.not_built("fct_revenue_schedule", "Recognized revenue by product family")
    with right:
        if ui.has(wh, "deferred_revenue_monthly"):
            st.plotly_chart(
                charts.deferred_rollforward(query(wh, "deferred_rollforward")), width="stretch"
            )
        else:
            ui.not_built("deferred_revenue_monthly", "Deferred revenue roll-forward")

    if ui.has(wh, "deferred_revenue_monthly"):
        with st.expander(
            "Deferred revenue roll-forward table (opening + billings − recognized = closing)",
            expanded=False,
        ):
            roll = query(wh, "deferred_rollforward").iloc[::-1]
            ui.table(roll.assign(month=roll["month"].map(fmt.month_label)))

    if ui.has(wh, "fct_invoices") and ui.has(wh, "dim_accounts"):
        _invoices(wh)
    else:
        ui.not_built("fct_invoices", "Invoices")

    st.subheader("Receivables")
    left, right = st.columns(2, gap="medium")
    with left:
        if ui.has(wh, "ar_aging"):
            st.plotly_chart(charts.aging_bars(query(wh, "ar_aging_buckets")), width="stretch")
        else:
            ui.not_built("ar_aging", "AR aging")
    with right:
        if ui.has(wh, "collections_monthly"):
            coll = query(wh, "collections").iloc[::-1]
            ui.table(
                coll.assign(month=coll["month"].map(fmt.month_label)),
                percent=["failed_payment_rate"],
                height=300,
            )
        else:
            ui.not_built("collections_monthly", "Collections and DSO")


ui.guarded(render)
