"""Risk & anomalies: renewals at risk in the next 90 days (score and reasons from
`account_health`), the period's billing anomalies with observed value against the expected range,
the exception queues (billing exceptions, loader rejects) by probable cause, and vendor cost
suggestions shown apart (they change no cost until accepted).

Every figure is a mart column read through `queries_risk`. The period filter applies to the
anomalies and the exception queues; segment and region to the renewals and the anomalies (their
accounts); the renewal list is always the 90 days after the as-of date."""

from __future__ import annotations

import streamlit as st

from dashboards.lib import charts, fmt, links, queries_risk, sidebar, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters
from dashboards.lib.fmt import Currency

ALL = "All"
QUEUE_LABELS = {"billing": "Billing exceptions", "loader": "Loader rejects"}


def _renewals(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Renewals at risk (next 90 days)")
    if not ui.has(wh, "account_health"):
        st.info(
            "**Renewal risk** — this build has no `marts.account_health` (the renewal-risk model "
            "writes it after the dbt marts). The list appears once a build publishes it.",
            icon=":material/construction:",
        )
        return
    df = query(wh, "at_risk_renewals", f.segment, f.region)
    if df.empty:
        st.info("No high- or medium-risk contract ends in the next 90 days.")
        return
    st.caption(
        f"{len(df):,} accounts whose contract ends within "
        f"{queries_risk.RENEWAL_HORIZON_DAYS} days of the as-of date, highest risk score first; "
        "ARR in the reporting currency. The reasons are the model's three largest contributions."
    )
    links.account_table(df, cur, key="risk_renewals", height=360)


def _anomalies(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Billing anomalies")
    if not ui.has(wh, "billing_anomalies"):
        ui.not_built("billing_anomalies", "Billing anomalies")
        return
    df = query(wh, "anomalies", f.start, f.end, f.segment, f.region)
    if df.empty:
        st.info("No billing anomaly in these months.")
        return
    counts = df.groupby("kind").size().sort_values(ascending=False)
    st.caption(
        f"{len(df):,} anomalies in the period: "
        + ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in counts.items())
        + ". Observed against the account's own expected range (median ± robust spread of its "
        "previous 12 months; amounts in the account's currency, usage in units)."
    )
    links.account_table(
        df,
        cur,
        key="risk_anomalies",
        money=["observed", "expected_low", "expected_high"],
        height=360,
    )


def _queues(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Exception queues by probable cause")
    if not (ui.has(wh, "exception_causes_monthly") and ui.has(wh, "exception_triage")):
        ui.not_built("exception_triage", "Exception triage")
        return
    queue = st.segmented_control(
        "Queue",
        list(queries_risk.QUEUES),
        format_func=lambda q: QUEUE_LABELS[q],
        default="billing",
        key="risk_queue",
    )
    if queue is None:
        st.caption("Choose a queue to show its exceptions.")
        return
    by_month = query(wh, "exception_causes", queue, f.start, f.end)
    if by_month.empty:
        st.info(f"No {QUEUE_LABELS[queue].lower()} in these months.")
        return
    event = st.plotly_chart(
        charts.cause_months(by_month),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key="risk_cause_chart",
    )
    totals = by_month.groupby("probable_cause")["exceptions"].sum().sort_values(ascending=False)
    months = sorted({fmt.as_date(m) for m in by_month["month"]}, reverse=True)
    c1, c2 = st.columns(2)
    links.follow_click("risk_month", links.selected_month(event), [ALL, *months])
    month = c1.selectbox(
        "Month",
        [ALL, *months],
        format_func=lambda m: "The whole period" if m == ALL else fmt.month_label(m),
        key="risk_month",
    )
    cause = c2.selectbox(
        "Cause",
        [ALL, *totals.index],
        format_func=lambda c: (
            f"All causes ({int(totals.sum()):,})" if c == ALL else f"{c} ({int(totals[c]):,})"
        ),
        key="risk_cause",
    )
    rows = query(
        wh,
        "exception_rows",
        queue,
        None if cause == ALL else cause,
        None if month == ALL else month,
        f.start,
        f.end,
    )
    st.caption(f"{len(rows):,} exceptions, with the evidence that decided each cause.")
    ui.table(rows, cur, height=320)


def _vendor(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Vendor cost suggestions")
    if not ui.has(wh, "vendor_cost_suggestions"):
        ui.not_built("vendor_cost_suggestions", "Vendor cost suggestions")
        return
    df = query(wh, "vendor_suggestions")
    if df.empty:
        st.info("Every COGS vendor bill carries an account or a product family.")
        return
    st.caption(
        "COGS vendor bills entered with neither account nor product family, with the family their "
        "vendor's other bills suggest. Suggestions change no cost: accept one by adding the bill "
        "to `dbt_project/seeds/accepted_vendor_families.csv` (docs/metrics.md, A6)."
    )
    ui.table(df, cur, money=["amount"], height=300)


def render(wh: Warehouse) -> None:
    st.title("Risk & anomalies")
    ui.build_caption(wh)
    cur = ui.currency(wh)
    f = sidebar.current()
    _renewals(wh, f, cur)
    _anomalies(wh, f, cur)
    _queues(wh, f, cur)
    _vendor(wh, cur)


ui.guarded(render)
