"""Cash: receivables aging with a collections worklist per bucket, collections and DSO, failed
payments, billing exceptions and their leakage (R8, R9).

Every figure is a mart column read through `queries_cash`; a ratio whose denominator is zero is
NULL in the mart and shown as "n/a"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, queries, queries_cash, ui
from dashboards.lib.cache import Warehouse, query
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
WORKLIST_LABELS = {
    "account_id": "Account",
    "account_name": "Account name",
    "invoice_id": "Invoice",
    "days_past_due": "Days past due",
    "open_amount": "Open (invoice currency)",
    "open_usd": "Open",
    "last_payment_attempt_at": "Last payment attempt (UTC)",
}


def _na(value: Any, show: Any) -> str:
    """A mart ratio as text; NULL (zero denominator) as "n/a"."""
    return NA if fmt.is_missing(value) else show(value)


def _tiles(trend: pd.DataFrame, run: dict, cur: Currency) -> None:
    """AR and DSO at the as-of date (the mart's last month); collections and the failed payment
    rate of the latest full month."""
    asof = trend.iloc[-1]
    month = fmt.latest_full_month(list(trend["month"]), ui.as_of(run))
    full = None if month is None else ui.row_for(trend, month)
    prev = None if month is None else ui.prior_row(trend, month)
    boxes = st.columns(4)
    with boxes[0]:
        ui.tile(
            "Accounts receivable",
            fmt.money_short(asof["ar_usd"], cur),
            help="Open balance of receivable invoices at the as-of date (the aging total).",
        )
    with boxes[1]:
        ui.tile(
            "DSO",
            _na(asof["dso_days"], fmt.days),
            help="AR ÷ billings of the last 90 days × 90; n/a without billings in those days.",
        )
    if full is None:
        return
    label = fmt.month_label(month, short=True)
    with boxes[2]:
        ui.tile(
            f"Collected ({label})",
            fmt.money_short(full["collected_usd"], cur),
            fmt.delta_money(
                full["collected_usd"], None if prev is None else prev["collected_usd"], cur
            ),
        )
    with boxes[3]:
        ui.tile(
            f"Failed payment rate ({label})",
            _na(full["failed_payment_rate"], fmt.pct),
            fmt.delta_pp(
                full["failed_payment_rate"], None if prev is None else prev["failed_payment_rate"]
            ),
            inverse=True,
            help="Failed ÷ all payment attempts in the month; n/a without attempts.",
        )


def _aging(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Receivables aging and collections worklist")
    summary = query(wh, "aging_summary")
    if int(summary["invoices"].sum()) == 0:
        st.info(
            "No open receivables at the as-of date: every receivable invoice is paid, credited "
            "or void, so there is nothing to collect."
        )
        return
    shown = summary.assign(bucket=summary["bucket"].map(BUCKET_LABELS))
    left, right = st.columns([3, 2], gap="medium")
    left.plotly_chart(charts.aging_bars(shown, cur), width="stretch")
    with right:
        ui.table(shown, cur, labels={"bucket": "Days past due", "missing_fx_rate": "No FX rate"})
        if int(summary["missing_fx_rate"].sum()):
            st.caption("Invoices without an FX rate at the as-of date are left out of the totals.")
    nonempty = [b for b, n in zip(summary["bucket"], summary["invoices"], strict=True) if n]
    bucket = st.segmented_control(
        "Worklist of bucket",
        list(queries.AGING_BUCKETS),
        default=nonempty[-1],
        format_func=lambda b: BUCKET_LABELS[b],
        key="aging_bucket",
    )
    if bucket is None:
        st.caption("Choose a bucket to list its invoices.")
        return
    work = query(wh, "aging_worklist", bucket)
    if work.empty:
        st.info(f"No open invoices are {BUCKET_LABELS[bucket].lower()} past due.")
        return
    st.caption(
        f"{len(work):,} open invoices, most overdue first. Open amounts in the invoice currency "
        f"and in {cur.code or 'the reporting currency'} at the as-of date's rate."
    )
    ui.table(work, cur, money=["open_amount"], labels=WORKLIST_LABELS, height=360, key="worklist")


def _collections(trend: pd.DataFrame, cur: Currency) -> None:
    st.subheader("Collections, DSO and failed payments")
    left, right = st.columns(2, gap="medium")
    left.plotly_chart(charts.collections_dso(trend, cur), width="stretch")
    right.plotly_chart(
        charts.rate_lines(
            trend, (("failed_payment_rate", "Failed payment rate", charts.RED),), "Failed payments"
        ),
        width="stretch",
    )
    with st.expander("Collections by month (newest first)", expanded=False):
        rows = trend.iloc[::-1]
        ui.table(
            rows.assign(
                month=rows["month"].map(fmt.month_label),
                dso_days=rows["dso_days"].map(lambda v: _na(v, fmt.days)),
                failed_payment_rate=rows["failed_payment_rate"].map(lambda v: _na(v, fmt.pct)),
            ),
            cur,
            height=300,
        )


def _failed(wh: Warehouse, cur: Currency) -> None:
    df = query(wh, "failed_payment_invoices")
    st.markdown("**Invoices with a failed payment attempt** (open amount 0 once paid)")
    if df.empty:
        st.info("No invoice has had a failed payment attempt.")
        return
    ui.table(df, cur, money=["open_amount"], labels=WORKLIST_LABELS, height=300)


def _leakage(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Billing exceptions and leakage")
    monthly = query(wh, "leakage_monthly")
    if monthly.empty:
        st.info(
            "No billing exceptions: every computed charge was billed as expected, so there is "
            "no leakage to show."
        )
        return
    ui.table(
        monthly.assign(
            month=monthly["month"].map(fmt.month_label),
            leakage_rate=monthly["leakage_rate"].map(lambda v: _na(v, fmt.pct)),
        ),
        cur,
        height=300,
    )
    months = [fmt.as_date(m) for m in monthly["month"]]
    f1, f2 = st.columns(2)
    month: dt.date | str = f1.selectbox(
        "Exceptions of month",
        [ALL, *months],
        format_func=lambda m: "All months" if m == ALL else fmt.month_label(m),
        key="exc_month",
    )
    kind = f2.selectbox(
        "Type",
        [ALL, *queries_cash.EXCEPTION_TYPES],
        format_func=lambda t: "All types" if t == ALL else t.replace("_", " "),
        key="exc_type",
    )
    df = query(
        wh, "billing_exception_list", None if month == ALL else month, None if kind == ALL else kind
    )
    if df.empty:
        st.info("No billing exceptions match these filters.")
        return
    st.caption(
        f"{len(df):,} exceptions, largest leakage first; expected, issued, difference and leakage "
        "in the lines' own currency."
    )
    ui.table(df, cur, money=["expected_amount", "issued_amount", "difference", "leakage"])


def render(wh: Warehouse) -> None:
    st.title("Cash")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    trend = None
    if ui.has(wh, "collections_monthly"):
        trend = query(wh, "collections_trend")
        if trend.empty:
            st.info("No invoices have been issued yet, so there are no receivables or collections.")
            trend = None
        else:
            _tiles(trend, run, cur)
    else:
        ui.not_built("collections_monthly", "Collections and DSO")
    if ui.has(wh, "ar_aging") and ui.has(wh, "fct_issued_invoices"):
        _aging(wh, cur)
    else:
        ui.not_built("ar_aging", "Receivables aging")
    if trend is not None:
        _collections(trend, cur)
    if ui.has(wh, "fct_issued_invoices"):
        _failed(wh, cur)
    if ui.has(wh, "billing_leakage_monthly") and ui.has(wh, "billing_exceptions"):
        _leakage(wh, cur)
    else:
        ui.not_built("billing_leakage_monthly", "Billing exceptions and leakage")


ui.guarded(render)
