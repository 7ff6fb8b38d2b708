"""Cash: receivables aging with a collections worklist per bucket, collections and DSO, failed
payments, billing exceptions and their leakage (R8, R9).

Every figure is a mart column read through `queries_cash`; a ratio whose denominator is zero is
NULL in the mart and shown as "n/a". The global filters apply where they can: the period to every
monthly chart and table, the tiles to its last month (delta vs the comparison month); segment and
region to the invoice and exception lists (their marts carry the account), not to
collections_monthly and billing_leakage_monthly, which are company-wide. Clicking a bucket, a
failed-payment month or a leakage month lists the rows behind it; a selected row opens its account
in Account 360."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, links, queries, queries_cash, sidebar, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters
from dashboards.lib.fmt import Currency

NA = "n/a"
ALL = "All"
BUCKET_LABELS = {
    "current": "Not yet due",
    "1-30": "1–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "over_90": "Over 90 days",
}
BUCKET_BY_LABEL = {label: bucket for bucket, label in BUCKET_LABELS.items()}
COMPANY_WIDE = "Company-wide (collections_monthly): segment and region filters don't apply."
WORKLIST_LABELS = {
    "account_id": "Account",
    "account_name": "Account name",
    "invoice_id": "Invoice",
    "days_past_due": "Days past due",
    "open_amount": "Open (invoice currency)",
    "open_usd": "Open",
    "last_payment_attempt_at": "Last payment attempt (UTC)",
    "payment_id": "Payment",
    "attempted_at": "Attempted (UTC)",
    "amount": "Amount (invoice currency)",
    "amount_usd": "Amount",
}


def _na(value: Any, show: Any) -> str:
    """A mart ratio as text; NULL (zero denominator) as "n/a"."""
    return NA if fmt.is_missing(value) else show(value)


def _in_period(df: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """The rows of the filters' period (a frame read from the comparison month on)."""
    if f.start is None:
        return df
    return df[df["month"].map(fmt.as_date) >= f.start]


def _tiles(rows: pd.DataFrame, f: Filters, month: dt.date, cur: Currency) -> None:
    """AR and DSO at the end of the tile month, its collections and failed payment rate, each
    against the comparison month."""
    row = ui.row_for(rows, month)
    if row is None:
        st.info(f"collections_monthly has no row for {fmt.month_label(month)}.")
        return
    prev = ui.row_for(rows, f.compare_to(month))
    vs = links.compared_with(f)

    def before(col: str) -> Any:
        return None if prev is None else prev[col]

    st.caption(f"**{fmt.month_label(month)}** · {COMPANY_WIDE}")
    ui.tiles(
        [
            ui.Tile(
                "Accounts receivable",
                fmt.money_short(row["ar_usd"], cur),
                fmt.delta_money(row["ar_usd"], before("ar_usd"), cur),
                inverse=True,
                delta_description=vs,
                help="Open balance of receivable invoices at the month's end (the as-of date "
                "in the as-of month, where it equals the aging total).",
            ),
            ui.Tile(
                "DSO",
                _na(row["dso_days"], fmt.days),
                fmt.delta_days(row["dso_days"], before("dso_days")),
                inverse=True,
                delta_description=vs,
                help="AR ÷ billings of the last 90 days × 90; n/a without billings in those days.",
            ),
            ui.Tile(
                "Collected",
                fmt.money_short(row["collected_usd"], cur),
                fmt.delta_money(row["collected_usd"], before("collected_usd"), cur),
                delta_description=vs,
            ),
            ui.Tile(
                "Failed payment rate",
                _na(row["failed_payment_rate"], fmt.pct),
                fmt.delta_pp(row["failed_payment_rate"], before("failed_payment_rate")),
                inverse=True,
                delta_description=vs,
                help="Failed ÷ all payment attempts in the month; n/a without attempts.",
            ),
        ],
        4,
    )


def _aging(wh: Warehouse, run: dict, f: Filters, cur: Currency) -> None:
    st.subheader("Receivables aging and collections worklist")
    as_of = ui.as_of(run)
    st.caption(
        f"Open invoices at the as-of date{f' ({as_of:%d %b %Y})' if as_of else ''}: the period "
        "filter doesn't apply; segment and region do. Click a bucket for its invoices."
    )
    summary = query(wh, "aging_summary", f.segment, f.region)
    if int(summary["invoices"].sum()) == 0:
        st.info(
            "No open receivables at the as-of date"
            + (" for these accounts" if f.segment or f.region else "")
            + ": every receivable invoice is paid, credited or void, so there is nothing to "
            "collect."
        )
        return
    shown = summary.assign(bucket=summary["bucket"].map(BUCKET_LABELS))
    left, right = st.columns([3, 2], gap="medium")
    event = left.plotly_chart(
        charts.aging_bars(shown, cur),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key="aging_chart",
    )
    with right:
        ui.table(
            shown,
            cur,
            labels={
                "bucket": "Days past due",
                "missing_fx_rate": "No FX rate",
                "credit_balances": "Credit balances",
            },
        )
        if int(summary["missing_fx_rate"].sum()):
            st.caption("Invoices without an FX rate at the as-of date are left out of the totals.")
    buckets = list(queries.AGING_BUCKETS)
    clicked = BUCKET_BY_LABEL.get(links.selected_label(event) or "")
    links.follow_click("aging_bucket", clicked, [*buckets, None])
    nonempty = [b for b, n in zip(summary["bucket"], summary["invoices"], strict=True) if n]
    if "aging_bucket" not in st.session_state:
        st.session_state["aging_bucket"] = nonempty[-1]
    bucket = st.segmented_control(
        "Worklist of bucket",
        buckets,
        format_func=lambda b: BUCKET_LABELS[b],
        key="aging_bucket",
    )
    if bucket is None:
        st.caption("Choose a bucket to list its invoices.")
        return
    work = query(wh, "aging_worklist", bucket, f.segment, f.region)
    credits = int(summary.loc[summary["bucket"] == bucket, "credit_balances"].iloc[0])
    credit_note = (
        f" {credits:,} more invoice{'' if credits == 1 else 's'} of this bucket "
        f"{'has' if credits == 1 else 'have'} a credit balance (paid above the total): "
        "counted in the bucket's open balance, left out of the worklist — nothing to collect."
        if credits
        else ""
    )
    if work.empty:
        st.info(
            f"No invoice {BUCKET_LABELS[bucket].lower()} has an amount to collect.{credit_note}"
        )
        return
    st.caption(
        f"{len(work):,} invoice{'' if len(work) == 1 else 's'} to collect, most overdue first. "
        f"Open amounts in the invoice currency and in {cur.code or 'the reporting currency'} at "
        f"the as-of date's rate.{credit_note}"
    )
    links.account_table(
        work, cur, key="worklist", money=["open_amount"], labels=WORKLIST_LABELS, height=360
    )


def _collections(rows: pd.DataFrame, cur: Currency) -> None:
    st.subheader("Collections and DSO")
    st.caption(COMPANY_WIDE)
    st.plotly_chart(charts.collections_dso(rows, cur), width="stretch")
    with st.expander("Collections by month (newest first)", expanded=False):
        newest = rows.iloc[::-1]
        ui.table(
            newest.assign(
                month=newest["month"].map(fmt.month_label),
                dso_days=newest["dso_days"].map(lambda v: _na(v, fmt.days)),
                failed_payment_rate=newest["failed_payment_rate"].map(lambda v: _na(v, fmt.pct)),
            ),
            cur,
            height=300,
        )


def _failed(wh: Warehouse, rows: pd.DataFrame | None, f: Filters, cur: Currency) -> None:
    st.subheader("Failed payments")
    months: list[dt.date] = []
    event = None
    if rows is not None and not rows.empty:
        event = st.plotly_chart(
            charts.rate_lines(
                rows,
                (("failed_payment_rate", "Failed payment rate", charts.RED),),
                "Failed payment rate by month (company-wide)",
            ),
            width="stretch",
            on_select="rerun",
            selection_mode="points",
            key="failed_chart",
        )
        months = [m for m in (fmt.as_date(v) for v in rows["month"].iloc[::-1]) if m]
    links.follow_click("failed_month", links.selected_month(event), [ALL, *months])
    month: dt.date | str = st.selectbox(
        "Failed payment attempts in",
        [ALL, *months],
        format_func=lambda m: "The whole period" if m == ALL else fmt.month_label(m),
        key="failed_month",
    )
    start, end = (f.start, f.end) if month == ALL else (month, month)
    df = query(wh, "failed_payments", start, end, f.segment, f.region)
    if df.empty:
        whose = " of these accounts" if f.segment or f.region else ""
        when = "in these months" if month == ALL else f"in {fmt.month_label(month)}"
        st.info(f"No payment attempt{whose} failed {when}.")
        return
    st.caption(
        f"{len(df):,} failed attempt{'' if len(df) == 1 else 's'} (fct_payments), newest first, "
        "with the invoice's open amount today (0 once paid): the attempts the chart counts. "
        "Click a month on the chart to list its attempts."
    )
    links.account_table(
        df,
        cur,
        key="failed_list",
        money=["amount", "open_amount"],
        labels=WORKLIST_LABELS,
        height=300,
    )


def _leakage(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Billing exceptions and leakage")
    monthly = query(wh, "leakage_monthly", f.start, f.end)
    if monthly.empty:
        st.info(
            "No billing exceptions in these months: every computed charge was billed as "
            "expected, so there is no leakage to show."
        )
        return
    oldest = monthly.iloc[::-1]
    event = st.plotly_chart(
        charts.leakage_months(oldest, cur),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key="leakage_chart",
    )
    st.caption(
        "Leakage per month is company-wide (billing_leakage_monthly); the exceptions below "
        "follow the segment and region filters. Click a month for its exceptions."
    )
    with st.expander("Leakage by month (newest first)", expanded=False):
        ui.table(
            monthly.assign(
                month=monthly["month"].map(fmt.month_label),
                leakage_rate=monthly["leakage_rate"].map(lambda v: _na(v, fmt.pct)),
            ),
            cur,
            height=300,
        )
    months = [m for m in (fmt.as_date(v) for v in monthly["month"]) if m]
    links.follow_click("exc_month", links.selected_month(event), [ALL, *months])
    f1, f2 = st.columns(2)
    month: dt.date | str = f1.selectbox(
        "Exceptions of month",
        [ALL, *months],
        format_func=lambda m: "The whole period" if m == ALL else fmt.month_label(m),
        key="exc_month",
    )
    kind = f2.selectbox(
        "Type",
        [ALL, *queries_cash.EXCEPTION_TYPES],
        format_func=lambda t: "All types" if t == ALL else t.replace("_", " "),
        key="exc_type",
    )
    start, end = (f.start, f.end) if month == ALL else (month, month)
    df = query(
        wh,
        "billing_exception_list",
        start,
        end,
        None if kind == ALL else kind,
        f.segment,
        f.region,
    )
    if df.empty:
        whose = " of these accounts" if f.segment or f.region else ""
        when = "in these months" if month == ALL else f"in {fmt.month_label(month)}"
        what = "" if kind == ALL else f" of type {str(kind).replace('_', ' ')}"
        st.info(f"No billing exceptions{whose}{what} {when}.")
        return
    st.caption(
        f"{len(df):,} exceptions, largest leakage first; expected, issued, difference and leakage "
        "in the lines' own currency."
    )
    amounts = ["expected_amount", "issued_amount", "difference", "leakage"]
    links.account_table(df, cur, key="exceptions", money=amounts)


def render(wh: Warehouse) -> None:
    st.title("Cash")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    f = sidebar.current()
    rows = None
    if ui.has(wh, "collections_monthly"):
        month = f.end or ui.as_of_month(run)
        since = None if f.start is None or month is None else min(f.start, f.compare_to(month))
        trend = query(wh, "collections_trend", since, month)
        if trend.empty:
            st.info(
                "No invoices have been issued in these months, so there are no receivables or "
                "collections to show."
            )
        else:
            if month is not None:
                _tiles(trend, f, month, cur)
            rows = _in_period(trend, f)
    else:
        ui.not_built("collections_monthly", "Collections and DSO")
    if ui.has(wh, "ar_aging") and ui.has(wh, "fct_issued_invoices"):
        _aging(wh, run, f, cur)
    else:
        ui.not_built("ar_aging", "Receivables aging")
    if rows is not None and not rows.empty:
        _collections(rows, cur)
    if ui.has(wh, "fct_issued_invoices"):
        _failed(wh, rows, f, cur)
    if ui.has(wh, "billing_leakage_monthly") and ui.has(wh, "billing_exceptions"):
        _leakage(wh, f, cur)
    else:
        ui.not_built("billing_leakage_monthly", "Billing exceptions and leakage")


ui.guarded(render)
