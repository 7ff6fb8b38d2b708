"""Operations: onboarding cycle time and the implementation backlog (overdue flagged), support
SLA, first-response and resolution times, CSAT, the support-to-renewal view, approval cycle
times, pending approvals and segregation-of-duties breaches (R10).

Every figure is a mart column read through `queries_ops`; a median or rate the mart leaves NULL
(nothing to measure) is shown as "n/a"."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, queries_ops, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.fmt import Currency

NA = "n/a"
ALL = "All"
KIND_LABELS = {"contract": "Contracts", "purchase_order": "Purchase orders"}
LIST_LABELS = {"pending": "Pending approvals", "sod_breach": "Segregation-of-duties breaches"}
BUCKET_LABELS = {
    "no_tickets": "No tickets",
    "good_csat": "Good CSAT (≥ 4)",
    "unrated": "Tickets, none rated",
    "fair_csat": "Fair CSAT (3 to < 4)",
    "poor_csat": "Poor CSAT (< 3)",
}


def _na(value: Any, show: Any) -> str:
    """A mart median, rate or average as text; NULL (nothing measured) as "n/a"."""
    return NA if fmt.is_missing(value) else show(value)


def _hours(value: Any) -> str:
    return f"{float(value):,.1f} h"


def _score(value: Any) -> str:
    return f"{float(value):.2f} / 5"


def _na_col(df: pd.DataFrame, show: dict[str, Any]) -> pd.DataFrame:
    """`df` with the named columns as text, NULL as "n/a"."""
    return df.assign(**{c: df[c].map(lambda v, f=f: _na(v, f)) for c, f in show.items()})


def _onboarding(wh: Warehouse, run: dict, cur: Currency) -> None:
    st.subheader("Onboarding")
    trend = query(wh, "onboarding_trend")
    if trend.empty:
        st.info("No implementations are known yet, so there is no onboarding to show.")
        return
    asof = trend.iloc[-1]
    month = fmt.latest_full_month(list(trend["month"]), ui.as_of(run))
    full = None if month is None else ui.row_for(trend, month)
    boxes = st.columns(3)
    with boxes[0]:
        ui.tile(
            "Implementation backlog",
            f"{int(asof['backlog']):,}",
            help="Implementations neither live nor cancelled at the as-of date.",
        )
    with boxes[1]:
        ui.tile(
            "Overdue implementations",
            f"{int(asof['overdue']):,}",
            help="Backlog implementations past their target go-live date at the as-of date.",
        )
    if full is not None:
        with boxes[2]:
            ui.tile(
                f"Onboarding cycle, median ({fmt.month_label(month, short=True)})",
                _na(full["onboarding_days_p50"], fmt.days),
                help="Median days from contract signature to go-live of the month's go-lives; "
                "n/a when none went live.",
            )
    with st.expander("Onboarding by month (newest first)", expanded=False):
        rows = trend.iloc[::-1]
        ui.table(
            _na_col(rows, {"onboarding_days_p50": fmt.days}).assign(
                month=rows["month"].map(fmt.month_label)
            ),
            cur,
            height=300,
        )
    overdue_only = st.toggle("Overdue only", key="backlog_overdue")
    backlog = query(wh, "implementation_backlog", bool(overdue_only))
    if backlog.empty:
        st.info(
            "No overdue implementations: every open implementation is within its target "
            "go-live date."
            if overdue_only
            else "No implementation backlog: every implementation is live or cancelled."
        )
        return
    st.caption(f"{len(backlog):,} open implementations, overdue and longest late first.")
    ui.table(backlog, cur, height=320, key="backlog")


def _support(wh: Warehouse, run: dict, cur: Currency) -> None:
    st.subheader("Support")
    trend = query(wh, "support_trend")
    if trend.empty:
        st.info("No support tickets have been created yet, so there is no support to show.")
        return
    month = fmt.latest_full_month(list(trend["month"]), ui.as_of(run))
    full = None if month is None else ui.row_for(trend, month)
    prev = None if month is None else ui.prior_row(trend, month)
    if full is not None:
        label = fmt.month_label(month, short=True)
        boxes = st.columns(4)
        with boxes[0]:
            ui.tile(
                f"SLA met ({label})",
                _na(full["sla_met_rate"], fmt.pct),
                fmt.delta_pp(full["sla_met_rate"], None if prev is None else prev["sla_met_rate"]),
                help="Tickets first answered within their priority's SLA; n/a when none measured.",
            )
        with boxes[1]:
            ui.tile(
                f"First response, median ({label})",
                _na(full["first_response_hours_p50"], _hours),
                help="Median hours to the first response of the month's answered tickets.",
            )
        with boxes[2]:
            ui.tile(
                f"Resolution, median ({label})",
                _na(full["resolution_hours_p50"], _hours),
                help="Median hours to solved of the month's solved tickets.",
            )
        with boxes[3]:
            ui.tile(
                f"CSAT ({label})",
                _na(full["csat_avg"], _score),
                help="Average CSAT of the month's rated tickets; n/a when none rated.",
            )
    st.plotly_chart(
        charts.rate_lines(
            trend, (("sla_met_rate", "SLA met rate", charts.BLUE),), "SLA met rate by month"
        ),
        width="stretch",
    )
    with st.expander("Support by month (newest first)", expanded=False):
        rows = trend.iloc[::-1]
        ui.table(
            _na_col(
                rows,
                {
                    "first_response_hours_p50": _hours,
                    "resolution_hours_p50": _hours,
                    "sla_met_rate": fmt.pct,
                    "csat_avg": _score,
                    "tickets_per_account": lambda v: f"{float(v):.2f}",
                },
            ).assign(month=rows["month"].map(fmt.month_label)),
            cur,
            height=300,
        )


def _renewal(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Support experience and renewal")
    risk = query(wh, "support_renewal")
    if risk.empty or int(risk["account_months"].sum()) == 0:
        st.info(
            "No paying account-months to observe yet, so churn and contraction cannot be set "
            "against support experience."
        )
        return
    st.caption(
        "Churn and contraction of paying accounts in a month by their support experience in the "
        "90 days before it, best experience first."
    )
    ui.table(
        _na_col(risk, {"churn_rate": fmt.pct, "contraction_rate": fmt.pct}).assign(
            bucket=risk["bucket"].map(lambda b: BUCKET_LABELS.get(b, b))
        ),
        cur,
    )


def _approvals(wh: Warehouse, run: dict, cur: Currency) -> None:
    st.subheader("Approvals")
    counts = query(wh, "approval_counts").iloc[0]
    if int(counts["requests"]) == 0:
        st.info("No contract or purchase order has been submitted for approval yet.")
        return
    totals = query(wh, "approvals_totals")
    pending = NA if totals.empty else f"{int(totals.iloc[-1]['pending_at_month_end']):,}"
    boxes = st.columns(3)
    with boxes[0]:
        ui.tile(
            "Pending approvals",
            pending,
            help="Contracts and purchase orders submitted and neither approved nor rejected at "
            "the as-of date.",
        )
    with boxes[1]:
        ui.tile(
            "Segregation-of-duties breaches",
            f"{int(counts['sod_breaches']):,}",
            help="Requests approved by the person who created or requested them, all time.",
        )
    trend = query(wh, "approvals_trend")
    with st.expander("Approval cycle by month and kind (newest first)", expanded=True):
        ui.table(
            _na_col(trend, {"cycle_hours_p50": _hours}).assign(
                month=trend["month"].map(fmt.month_label),
                kind=trend["kind"].map(KIND_LABELS),
            ),
            cur,
            height=300,
        )
    f1, f2 = st.columns(2)
    which = f1.segmented_control(
        "List",
        list(queries_ops.APPROVAL_LISTS),
        default="pending",
        format_func=lambda w: LIST_LABELS[w],
        key="approval_list",
    )
    kind = f2.selectbox(
        "Kind",
        [ALL, *queries_ops.APPROVAL_KINDS],
        format_func=lambda k: "All kinds" if k == ALL else KIND_LABELS[k],
        key="approval_kind",
    )
    if which is None:
        st.caption("Choose a list to show its requests.")
        return
    df = query(wh, "approval_list", which, None if kind == ALL else kind)
    if df.empty:
        st.info(f"No {LIST_LABELS[which].lower()} match these filters.")
        return
    st.caption(f"{len(df):,} requests; amounts in each request's own currency.")
    ui.table(df, cur, money=["amount"], height=320, key="approvals")


def render(wh: Warehouse) -> None:
    st.title("Operations")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    if ui.has(wh, "onboarding_monthly") and ui.has(wh, "onboarding"):
        _onboarding(wh, run, cur)
    else:
        ui.not_built("onboarding_monthly", "Onboarding")
    if ui.has(wh, "support_monthly"):
        _support(wh, run, cur)
    else:
        ui.not_built("support_monthly", "Support")
    if ui.has(wh, "support_renewal_risk"):
        _renewal(wh, cur)
    else:
        ui.not_built("support_renewal_risk", "Support experience and renewal")
    if ui.has(wh, "approvals") and ui.has(wh, "approvals_monthly"):
        _approvals(wh, run, cur)
    else:
        ui.not_built("approvals", "Approvals")


ui.guarded(render)
