"""Customers & retention: churn and retention rates, cohorts, the largest accounts."""

from __future__ import annotations

import streamlit as st

from dashboards.lib import charts, fmt, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.fmt import Currency

CHURN_SERIES = (
    ("logo_churn_rate", "Logo churn", charts.RED),
    ("gross_mrr_churn_rate", "Gross MRR churn", charts.ORANGE),
    ("net_mrr_churn_rate", "Net MRR churn", charts.PURPLE),
)
RETENTION_SERIES = (
    ("nrr_t12", "NRR (t12)", charts.NAVY),
    ("grr_t12", "GRR (t12)", charts.TEAL),
)
COHORT_LABELS = {"logo": "logo retention", "mrr": "MRR retention"}


def _retention(wh: Warehouse) -> None:
    if not ui.has(wh, "retention_monthly"):
        ui.not_built("retention_monthly", "Churn and retention rates")
        return
    df = query(wh, "retention")
    left, right = st.columns(2, gap="medium")
    left.plotly_chart(
        charts.rate_lines(df, CHURN_SERIES, "Monthly churn rates", reference=0.0), width="stretch"
    )
    right.plotly_chart(
        charts.rate_lines(df, RETENTION_SERIES, "Trailing-12 revenue retention", reference=1.0),
        width="stretch",
    )


def _cohorts(wh: Warehouse) -> None:
    if not ui.has(wh, "cohort_retention"):
        ui.not_built("cohort_retention", "Cohort retention")
        return
    metric = (
        st.segmented_control(
            "Cohort view",
            list(COHORT_LABELS),
            default="logo",
            format_func=lambda m: COHORT_LABELS[m][:1].upper() + COHORT_LABELS[m][1:],
            key="cohort_metric",
            required=True,
        )
        or "logo"
    )
    df = query(wh, "cohort_retention", metric)
    if df.empty:
        st.info("No cohorts yet.")
        return
    st.plotly_chart(charts.cohort_heatmap(df, COHORT_LABELS[metric]), width="stretch")


def _accounts(wh: Warehouse, cur: Currency) -> None:
    if not ui.has(wh, "dim_accounts"):
        ui.not_built("dim_accounts", "Accounts")
        return
    st.subheader("Accounts")
    opts = query(wh, "accounts")
    f1, f2, f3 = st.columns([2, 2, 1])
    segments = f1.multiselect(
        "Segment",
        sorted(opts["segment"].dropna().unique()),
        placeholder="All segments",
        key="acct_segments",
    )
    regions = f2.multiselect(
        "Region",
        sorted(opts["region"].dropna().unique()),
        placeholder="All regions",
        key="acct_regions",
    )
    limit = f3.selectbox("Top", [10, 20, 50, 200], index=1, key="acct_limit")
    seg, reg = tuple(segments), tuple(regions)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        top = query(wh, "top_accounts", seg, reg, limit)
        st.markdown(f"**Top {limit} accounts by current MRR**")
        if top.empty:
            st.info("No accounts match these filters.")
        else:
            ui.table(top, cur, hide=["account_id", "country", "currency"], height=420)
    with right:
        by_seg = query(wh, "mrr_by_segment", seg, reg)
        if not by_seg.empty:
            st.plotly_chart(charts.mrr_by_segment(by_seg, cur), width="stretch")


def _margin(wh: Warehouse, cur: Currency) -> None:
    st.subheader("Gross margin by account")
    if not ui.has(wh, "account_margin_monthly"):
        ui.not_built("account_margin_monthly", "Account gross margin")
        return
    df = query(wh, "account_margin")
    if df.empty:
        st.info("No margin rows yet.")
        return
    st.caption(f"{fmt.month_label(df['month'].iloc[0])}, largest revenue first.")
    ui.table(df, cur, percent=["gross_margin_pct"], hide=["month"])


def render(wh: Warehouse) -> None:
    st.title("Customers & retention")
    ui.build_caption(wh)
    cur = ui.currency(wh)
    _retention(wh)
    _cohorts(wh)
    _accounts(wh, cur)
    st.caption(
        "Retention and cohort marts are company-wide; segment and region filters apply to the "
        "account views."
    )
    _margin(wh, cur)


ui.guarded(render)
