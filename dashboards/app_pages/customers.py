"""Customers & retention: churn and retention rates over the period, the cohort heatmap (logos,
MRR or gross margin; a cell lists its accounts), the largest accounts and their gross margin.

The retention and cohort marts are company-wide, so the sidebar's segment and region filters apply
to the account views only; each section's caption says which filters it follows.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, links, sidebar, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters
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
#: Cohort heatmap views (queries_revenue.COHORT_VIEWS) and what their cells show.
COHORT_LABELS = {"logo": "logo retention", "mrr": "MRR retention", "margin": "gross margin %"}
COHORT_BUTTONS = {"logo": "Logos", "mrr": "MRR", "margin": "Gross margin"}
#: The mart each view reads (its "not built" note).
COHORT_MARTS = {"logo": "cohort_retention", "mrr": "cohort_retention", "margin": "cohort_margin"}
CELL_COHORT, CELL_MONTH = "cohort_cell_cohort", "cohort_cell_month"
LAST_CLICK = "cohort_last_click"


def _retention(wh: Warehouse, f: Filters) -> None:
    if not ui.has(wh, "retention_monthly"):
        ui.not_built("retention_monthly", "Churn and retention rates")
        return
    df = query(wh, "retention_in_period", f.start, f.end)
    if df.empty:
        st.info("retention_monthly has no months in this period: no account had MRR yet.")
        return
    left, right = st.columns(2, gap="medium")
    left.plotly_chart(
        charts.rate_lines(df, CHURN_SERIES, "Monthly churn rates", reference=0.0), width="stretch"
    )
    right.plotly_chart(
        charts.rate_lines(df, RETENTION_SERIES, "Trailing-12 revenue retention", reference=1.0),
        width="stretch",
    )
    st.caption(
        "retention_monthly over the period, company-wide: the segment, region and product family "
        "filters do not apply."
    )


def _follow_click(event: object) -> None:
    """A new heatmap click puts its cell into the cohort and month pickers below the chart (set
    before they render); an unchanged selection leaves the pickers to the user."""
    pick = links.picked_point(event)
    if pick == st.session_state.get(LAST_CLICK):
        return
    st.session_state[LAST_CLICK] = pick
    if pick is not None:
        st.session_state[CELL_COHORT] = pick[0]
        st.session_state[CELL_MONTH] = fmt.as_date(pick[1])


def _cohorts(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Cohorts")
    view = (
        st.segmented_control(
            "Cohort view",
            list(COHORT_LABELS),
            default="logo",
            format_func=COHORT_BUTTONS.get,
            key="cohort_metric",
            required=True,
        )
        or "logo"
    )
    if not ui.has(wh, COHORT_MARTS[view]):
        ui.not_built(COHORT_MARTS[view], f"Cohort {COHORT_LABELS[view]}")
        return
    df = query(wh, "cohort_view", view, f.end)
    if df.empty:
        st.info("No cohorts yet: no account has had MRR in this build.")
        return
    event = st.plotly_chart(
        charts.cohort_cells(df, COHORT_LABELS[view], diverging=view == "margin"),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key=f"cohort_chart_{view}",
    )
    _follow_click(event)
    source = "cohort_margin" if view == "margin" else "cohort_retention"
    st.caption(
        f"{source}.{'gross_margin_pct' if view == 'margin' else view + '_retention'} per cohort "
        "(month of first MRR) and months since start, up to the period's end; company-wide (the "
        "segment, region and product family filters do not apply). Click a cell, or pick a "
        "cohort and month below, for its accounts."
    )
    _cell_accounts(wh, df, view, cur)


def _cell_accounts(wh: Warehouse, df: pd.DataFrame, view: str, cur: Currency) -> None:
    """The accounts of one cohort cell (the pickers, set by a click or by hand)."""
    cohorts = sorted({fmt.as_date(c) for c in df["cohort_month"]})
    if st.session_state.get(CELL_COHORT) not in (None, *cohorts):
        st.session_state[CELL_COHORT] = None
    f1, f2 = st.columns(2)
    cohort = f1.selectbox(
        "Cohort",
        cohorts,
        index=None,
        format_func=fmt.month_label,
        placeholder="Pick a cohort",
        key=CELL_COHORT,
    )
    months = [
        fmt.as_date(m) for m in df.loc[df["cohort_month"].map(fmt.as_date) == cohort, "month"]
    ]
    if st.session_state.get(CELL_MONTH) not in (None, *months):
        st.session_state[CELL_MONTH] = None
    month = f2.selectbox(
        "Month",
        months,
        index=None,
        format_func=fmt.month_label,
        placeholder="Pick a month" if cohort else "Pick a cohort first",
        key=CELL_MONTH,
        disabled=cohort is None,
    )
    if cohort is None or month is None:
        return
    cell = df[
        (df["cohort_month"].map(fmt.as_date) == cohort) & (df["month"].map(fmt.as_date) == month)
    ]
    margin = view == "margin"
    accounts = query(wh, "cohort_accounts", cohort, month, margin)
    active = None if cell.empty else int(cell["active_accounts"].iloc[0])
    st.markdown(
        f"**Cohort {fmt.month_label(cohort)}, {fmt.month_label(month)}:** "
        f"{_accounts_label(int(accounts['active'].sum()) if margin else len(accounts))} with MRR"
        + (f" (the cell's active accounts: {active:,})" if active is not None else "")
    )
    if accounts.empty:
        st.info("No account of this cohort had MRR or revenue in that month.")
        return
    if margin:
        st.caption(
            "Accounts with MRR in the month, and those with revenue or cost in it "
            "(account_margin_monthly) — cohort_margin sums the latter."
        )
    event = st.dataframe(
        accounts,
        width="stretch",
        hide_index=True,
        column_config={
            **ui.money_config(accounts, cur),
            "gross_margin_pct": st.column_config.NumberColumn("Gross margin %", format="percent"),
            "active": st.column_config.CheckboxColumn("MRR > 0"),
        },
        on_select="rerun",
        selection_mode="single-row",
        key="cohort_accounts",
        height=300,
    )
    row = links.picked_row(event, accounts)
    if row is not None:
        links.account_link(row["account_id"], row["account_name"])


def _accounts_label(n: int) -> str:
    return f"{n:,} account" + ("" if n == 1 else "s")


def _dims(f: Filters) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The global segment and region as the account queries' (multi-valued) filters."""
    return ((f.segment,) if f.segment else ()), ((f.region,) if f.region else ())


def _accounts(wh: Warehouse, f: Filters, cur: Currency) -> None:
    if not ui.has(wh, "dim_accounts"):
        ui.not_built("dim_accounts", "Accounts")
        return
    st.subheader("Accounts")
    seg, reg = _dims(f)
    limit = st.selectbox("Top", [10, 20, 50, 200], index=1, key="acct_limit")
    left, right = st.columns([3, 2], gap="medium")
    with left:
        top = query(wh, "top_accounts", seg, reg, limit)
        st.markdown(f"**Top {limit} accounts by current MRR**")
        if top.empty:
            st.info(f"No accounts match the filters ({f.describe()}).")
        else:
            event = st.dataframe(
                top,
                width="stretch",
                hide_index=True,
                column_config=ui.money_config(top, cur),
                column_order=[c for c in top.columns if c not in ("country", "currency")],
                on_select="rerun",
                selection_mode="single-row",
                key="top_accounts",
                height=420,
            )
            row = links.picked_row(event, top)
            if row is not None:
                links.account_link(row["account_id"], row["account_name"])
    with right:
        by_seg = query(wh, "mrr_by_segment", seg, reg)
        if not by_seg.empty:
            st.plotly_chart(charts.mrr_by_segment(by_seg, cur), width="stretch")
    st.caption(
        "Current MRR of dim_accounts (at the as-of date), within the sidebar's segment and region; "
        "the period and product family filters do not apply (an account spans families)."
    )


def _margin(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.subheader("Gross margin by account")
    if not ui.has(wh, "account_margin_monthly"):
        ui.not_built("account_margin_monthly", "Account gross margin")
        return
    df = query(wh, "account_margin_month", f.end, f.segment, f.region)
    if df.empty:
        st.info(f"No account had revenue or cost in this month for {f.describe()}.")
        return
    st.caption(
        f"account_margin_monthly, {fmt.month_label(df['month'].iloc[0])} (the period's last "
        "month), segment and region filters applied; largest revenue first."
    )
    ui.table(df, cur, percent=["gross_margin_pct"], hide=["month"])


def render(wh: Warehouse) -> None:
    st.title("Customers & retention")
    ui.build_caption(wh)
    cur = ui.currency(wh)
    f = sidebar.current()
    _retention(wh, f)
    _cohorts(wh, f, cur)
    _accounts(wh, f, cur)
    _margin(wh, f, cur)


ui.guarded(render)
