"""Revenue: ARR by segment / region / product family (click a bar for its accounts), the
period's top expansions and churns (churn by cause), revenue vs billings, revenue by product
family, the deferred revenue roll-forward, invoices and receivables.

Every section honours the sidebar's period; the segment, region and product family filters apply
where the mart carries them, and each section's caption says which it ignores (kpi_monthly and the
deferred revenue mart are company-level).

Two recognition figures appear here under two names: "Revenue (recognized)" (month-end rates, the
Overview's tile) and the waterfall's "Recognized at invoice-date rates"; the mart's FX difference
line, when built, ties them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, labels, links, queries, queries_revenue, sidebar, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters
from dashboards.lib.fmt import Currency

ALL = "All"
#: The ARR toggle's breakdowns (fct_mrr_by_plan_monthly columns) and their labels.
BREAKDOWNS = {"segment": "segment", "region": "region", "product_family": "product family"}
TOP_MOVEMENTS = 20
#: Churn causes (fct_mrr_movements.movement_cause) → tile labels; totals from mrr_bridge_monthly.
CAUSE_LABELS = {
    "cancel": "Churn: cancelled",
    "pause": "Churn: paused",
    "downgrade_to_zero": "Churn: to 0 MRR",
}
#: kpi_monthly.billings_usd (issued invoice totals, tax included: the Cash page's billings) and
#: deferred_revenue_monthly.billings_usd (computed invoice lines, no tax: the roll-forward's) are
#: two figures; each keeps its own name on this page.
ISSUED_BILLINGS = "Billings (issued invoices, tax incl.)"
LINE_BILLINGS = "Billings (invoice lines, ex tax)"
CAUSE_HELP = {
    "churn_usd": "The three causes add up to it.",
    "churn_cancelled_usd": "Subscriptions cancelled.",
    "churn_paused_usd": "Subscriptions paused: expected back on resume.",
    "churn_downgraded_to_zero_usd": "Subscriptions still active with 0 MRR (a usage plan, 0 "
    "seats or a 0 price).",
}
#: The movement tables' visible columns, the amount in the reporting currency up front.
MOVEMENT_COLUMNS = [
    "month",
    "account_name",
    "movement_cause",
    "amount_usd",
    "account_id",
    "amount",
    "currency",
]
MOVEMENT_LABELS = {
    "movement_cause": "Cause",
    "amount": "Amount (account currency)",
    "account_id": "Account",
    "account_name": "Account name",
}


#: Headers of the roll-forward table where the column name alone would mislead.
WATERFALL_LABELS = {
    "recognized_usd": labels.RECOGNIZED_AT_INVOICE_RATES,
    queries.WATERFALL_FX_DIFFERENCE_COLUMN: labels.FX_DIFFERENCE,
}


def _tiles(wh: Warehouse, run: dict, cur: Currency, f: Filters) -> None:
    """The period's last month (default: the latest full month): revenue (as on the Overview),
    billings, closing deferred and unbilled; then how the waterfall's recognition (invoice-date
    rates) relates to revenue. Company-wide."""
    df = query(wh, "deferred_rollforward")
    month = fmt.latest_full_month(list(df["month"]), ui.as_of(run))
    if f.end is not None and ui.row_for(df, f.end) is not None:
        month = f.end
    row = None if month is None else ui.row_for(df, month)
    if month is None or row is None:
        return
    base = f.compare_to(month)
    prev = ui.row_for(df, base)
    versus = f"vs {fmt.month_label(base, short=True)} ({f.comparison_label})"
    kpi = kpi_prev = None
    if ui.has(wh, "kpi_monthly"):
        kpis = query(wh, "kpis_by_month", ui.as_of_month(run))
        kpi, kpi_prev = ui.row_for(kpis, month), ui.row_for(kpis, base)

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
                delta_description=versus,
            )
    for box, (col, label) in zip(
        boxes[1:],
        [
            ("billings_usd", LINE_BILLINGS),
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
                delta_description=versus,
            )
    _fx_note(row, kpi, cur)
    st.caption(
        "Company-wide (kpi_monthly, deferred_revenue_monthly): the segment, region and product "
        "family filters do not apply to these tiles."
    )


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


def _period(f: Filters) -> str:
    """`Nov 2025 – Oct 2026` (or `all months`)."""
    return f"{f.start:%b %Y} – {f.end:%b %Y}" if f.start and f.end else "all months"


def _in_period(df: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """The rows of a monthly frame within the period (rows kept as they are)."""
    months = df["month"].map(fmt.as_date)
    keep = pd.Series(True, index=df.index)
    if f.start is not None:
        keep &= months >= f.start
    if f.end is not None:
        keep &= months <= f.end
    return df[keep]


def _arr(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("ARR by segment, region or product family")
    by = (
        st.segmented_control(
            "Break ARR down by",
            list(BREAKDOWNS),
            default="segment",
            format_func=lambda b: BREAKDOWNS[b].capitalize(),
            key="arr_by",
            required=True,
        )
        or "segment"
    )
    df = query(wh, "arr_by_dimension", by, f.start, f.end, *f.dims())
    if df.empty:
        st.info(
            f"No ARR in {_period(f)} for {f.describe()}: no account of these filters had a "
            "recurring plan in force at a month end of the period."
        )
        return
    event = st.plotly_chart(
        charts.arr_breakdown(df, BREAKDOWNS[by], cur),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key=f"arr_chart_{by}",
    )
    st.caption(
        f"Σ ARR of fct_mrr_by_plan_monthly per month and {BREAKDOWNS[by]}, {f.describe()}. "
        "Click a bar for the accounts behind it."
    )
    if int(df["missing_fx_rows"].sum()):
        st.caption("Plan months without an FX rate have no ARR in the reporting currency.")
    last = df[df["month"].map(fmt.as_date) == fmt.as_date(df["month"].iloc[-1])]
    st.markdown(f"**ARR by {BREAKDOWNS[by]}, {fmt.month_label(last['month'].iloc[0])}**")
    ui.table(
        last[["breakdown", "arr_usd", "accounts"]],
        cur,
        labels={"breakdown": BREAKDOWNS[by].capitalize()},
        key="arr_last",
    )
    pick = links.picked_point(event)
    shown = df["month"].map(fmt.as_date).eq(pick[0]) & df["breakdown"].eq(pick[1]) if pick else None
    if pick is None or shown is None or not shown.any():
        return
    month, value = pick
    accounts = query(wh, "arr_accounts", month, by, value, *f.dims())
    st.markdown(
        f"**{value}, {fmt.month_label(month)}: {len(accounts):,} accounts**"
        " (ARR of each in this bar)"
    )
    event = st.dataframe(
        accounts,
        width="stretch",
        hide_index=True,
        column_config=ui.money_config(accounts, cur, labels={"arr_usd": "ARR in this bar"}),
        on_select="rerun",
        selection_mode="single-row",
        key="arr_accounts",
        height=300,
    )
    row = links.picked_row(event, accounts)
    if row is not None:
        links.account_link(row["account_id"], row["account_name"])


def _cause_tiles(wh: Warehouse, f: Filters, cur: Currency) -> None:
    """The period's expansion and churn by cause: sums of mrr_bridge_monthly's columns."""
    totals = query(wh, "movement_totals", f.start, f.end)
    if totals.empty or int(totals["months"].iloc[0]) == 0:
        return
    row = totals.iloc[0]
    items = [("expansion_usd", "Expansion MRR"), ("churn_usd", "Churned MRR")]
    items += [(col, CAUSE_LABELS[c]) for c, col in queries_revenue.CHURN_CAUSES.items()]
    for box, (col, label) in zip(st.columns(len(items)), items, strict=True):
        with box:
            ui.tile(
                label,
                fmt.money_short(row[col], cur),
                help=f"Σ mrr_bridge_monthly.{col} over the period, company-wide. "
                + CAUSE_HELP.get(col, ""),
            )


def _movements(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader(f"Top expansions and churns, {_period(f)}")
    if ui.has(wh, "mrr_bridge_monthly"):
        _cause_tiles(wh, f, cur)
    st.caption(
        "Totals: Σ of mrr_bridge_monthly over the period, company-wide. Tables: the "
        f"{TOP_MOVEMENTS} largest movements of fct_mrr_movements (one row per account, month and "
        "cause), segment and region filters applied; the product family filter does not apply "
        "(movements are per account). Select a row to open the account."
    )
    left, right = st.columns(2, gap="medium")
    for box, kind, title, empty in (
        (left, "expansion", "Expansions", "No account expanded its MRR"),
        (right, "churn", "Churns (cancelled, paused or downgraded to 0)", "No account churned"),
    ):
        with box:
            st.markdown(f"**{title}**")
            df = query(
                wh, "top_movements", kind, f.start, f.end, f.segment, f.region, TOP_MOVEMENTS
            )
            if df.empty:
                st.info(f"{empty} in {_period(f)} for {f.describe()}.")
                continue
            event = st.dataframe(
                df,
                width="stretch",
                hide_index=True,
                column_config=ui.money_config(df, cur, ["amount"], MOVEMENT_LABELS),
                column_order=MOVEMENT_COLUMNS,
                on_select="rerun",
                selection_mode="single-row",
                key=f"top_{kind}",
                height=320,
            )
            row = links.picked_row(event, df)
            if row is not None:
                links.account_link(row["account_id"], row["account_name"])


def _revenue_billings(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader(f"{labels.REVENUE} vs billings")
    df = query(wh, "revenue_vs_billings", f.start, f.end)
    if df.empty:
        st.info(f"kpi_monthly has no months in {_period(f)}.")
        return
    st.plotly_chart(charts.revenue_billings(df, ISSUED_BILLINGS, cur), width="stretch")
    st.caption(
        "kpi_monthly per month: revenue recognized (month-end rates), billings (issued invoice "
        "totals with tax, as on the Cash page; the roll-forward's billings are the invoice lines "
        "without tax) and closing deferred revenue. Company-wide: kpi_monthly is company-level, "
        "so the segment, region and product family filters do not apply here."
    )
    with st.expander("Revenue, billings and deferred revenue by month", expanded=False):
        rows = df.iloc[::-1]
        ui.table(
            rows.assign(month=rows["month"].map(fmt.month_label)),
            cur,
            labels={
                "revenue_usd": labels.REVENUE,
                "billings_usd": ISSUED_BILLINGS,
                "deferred_revenue_usd": "Deferred revenue",
            },
        )


def _invoices(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Invoices")
    accounts = query(wh, "filtered_accounts", f.segment, f.region)
    months = [
        m
        for m in (fmt.as_date(m) for m in query(wh, "invoice_months")["month"])
        if m is not None and (f.start is None or m >= f.start) and (f.end is None or m <= f.end)
    ]
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
        "invoices_in_period",
        f.start,
        f.end,
        f.segment,
        f.region,
        None if account == ALL else account,
        None if month == ALL else month,
        limit,
    )
    if df.empty:
        st.info(f"No invoices match these filters ({_period(f)}, {f.describe()}).")
        return
    st.caption(
        f"{len(df):,} invoices dated {_period(f)} shown, newest first (limit {limit:,}); segment "
        "and region filters apply, product family does not (an invoice spans plans). Select one "
        "for its lines."
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
    row = links.picked_row(event, df)
    if row is not None and ui.has(wh, "fct_invoice_lines"):
        key = row["invoice_key"]
        st.markdown(f"**Lines of `{key}`**")
        lines = query(wh, "invoice_lines", key)
        ui.table(lines, cur, money=["amount", "quantity"])


def render(wh: Warehouse) -> None:
    st.title("Revenue")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    f = sidebar.current()
    if ui.has(wh, "deferred_revenue_monthly"):
        _tiles(wh, run, cur, f)

    if ui.has(wh, "fct_mrr_by_plan_monthly") and ui.has(wh, "dim_accounts"):
        _arr(wh, f, cur)
    else:
        ui.not_built("fct_mrr_by_plan_monthly", "ARR by segment, region or product family")
    if ui.has(wh, "fct_mrr_movements") and ui.has(wh, "dim_accounts"):
        _movements(wh, f, cur)
    else:
        ui.not_built("fct_mrr_movements", "Top expansions and churns")
    if ui.has(wh, "kpi_monthly"):
        _revenue_billings(wh, f, cur)
    else:
        ui.not_built("kpi_monthly", f"{labels.REVENUE} vs billings")

    left, right = st.columns(2, gap="medium")
    with left:
        if ui.has(wh, "fct_revenue_schedule") and ui.has(wh, "dim_accounts"):
            end = f.end or ui.as_of_month(run)
            rev = query(wh, "revenue_by_family_in_period", f.start, end, *f.dims())
            st.plotly_chart(charts.revenue_by_family(rev, cur), width="stretch")
            st.caption(f"fct_revenue_schedule, {f.describe()}.")
        else:
            ui.not_built("fct_revenue_schedule", f"{labels.REVENUE} by product family")
    roll = None
    with right:
        if ui.has(wh, "deferred_revenue_monthly"):
            roll = _in_period(query(wh, "deferred_rollforward"), f)
            st.plotly_chart(charts.deferred_rollforward(roll, cur), width="stretch")
            st.caption(f"{_period(f)}, company-wide (segment and region filters do not apply).")
        else:
            ui.not_built("deferred_revenue_monthly", "Deferred revenue roll-forward")

    if roll is not None:
        with st.expander(
            "Deferred revenue roll-forward table (opening + billings − recognized + unbilled "
            "change = closing; invoice-date rates)",
            expanded=False,
        ):
            rows = roll.iloc[::-1]
            ui.table(
                rows.assign(month=rows["month"].map(fmt.month_label)), cur, labels=WATERFALL_LABELS
            )

    if ui.has(wh, "fct_invoices") and ui.has(wh, "dim_accounts"):
        _invoices(wh, f, cur)
    else:
        ui.not_built("fct_invoices", "Invoices")

    st.subheader("Receivables")
    left, right = st.columns(2, gap="medium")
    with left:
        if ui.has(wh, "ar_aging"):
            st.plotly_chart(charts.aging_bars(query(wh, "ar_aging_buckets"), cur), width="stretch")
            st.caption("Open receivables at the as-of date, company-wide (no filter applies).")
        else:
            ui.not_built("ar_aging", "AR aging")
    with right:
        if ui.has(wh, "collections_monthly"):
            coll = query(wh, "collections_in_period", f.start, f.end)
            ui.table(
                coll.assign(month=coll["month"].map(fmt.month_label)),
                cur,
                percent=["failed_payment_rate"],
                height=300,
            )
            st.caption(f"collections_monthly, {_period(f)}, company-wide.")
        else:
            ui.not_built("collections_monthly", "Collections and DSO")


ui.guarded(render)
