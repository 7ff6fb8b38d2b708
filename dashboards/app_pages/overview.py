"""Overview: the CFO's first screen — KPI tiles for the latest full month, MRR trend and bridge."""

from __future__ import annotations

import streamlit as st

from dashboards.lib import charts, fmt, ui
from dashboards.lib.cache import Warehouse, query

TILES_HELP = {
    "mrr": "Sum of account MRR on the month's last day (R5), from mrr_bridge_monthly.",
    "arr": "12 × MRR, summed from fct_mrr_monthly.arr_usd (R5).",
    "net_new": "New + reactivation + expansion + contraction + churn, FX excluded "
    "(mrr_bridge_monthly, R5).",
    "revenue": "Recognized revenue in the month, credits included (fct_revenue_schedule, R4).",
    "nrr": "Trailing-12 net revenue retention (retention_monthly, R6).",
    "grr": "Trailing-12 gross revenue retention (retention_monthly, R6).",
    "churn": "Accounts churned in the month / accounts with MRR at the prior month end (R6).",
    "deferred": "Deferred revenue at the month's end (deferred_revenue_monthly, R4).",
}


def render(wh: Warehouse) -> None:
    st.title("Executive overview")
    run = ui.build_caption(wh)

    kpis = query(wh, "kpis_by_month", ui.as_of_month(run))
    if kpis.empty:
        ui.not_built("mrr_bridge_monthly", "MRR, revenue and retention KPIs")
        return
    month = fmt.latest_full_month(list(kpis["month"]), ui.as_of(run))
    if month is None:
        st.info("No full month has closed yet in this build; the tiles appear after month end.")
        return
    cur, prev = ui.row_for(kpis, month), ui.prior_row(kpis, month)
    assert cur is not None  # month comes from kpis
    history = kpis[kpis["month"].map(fmt.as_date) <= month].tail(12)

    def p(col: str) -> object:
        return None if prev is None else prev[col]

    st.subheader(f"{fmt.month_label(month)} at a glance")
    row1 = st.columns(4)
    row2 = st.columns(4)
    with row1[0]:
        ui.tile(
            "MRR",
            fmt.money_short(cur["mrr_usd"]),
            fmt.delta_money(cur["mrr_usd"], p("mrr_usd")),
            help=TILES_HELP["mrr"],
            spark=history["mrr_usd"],
        )
    with row1[1]:
        ui.tile(
            "ARR",
            fmt.money_short(cur["arr_usd"]),
            fmt.delta_money(cur["arr_usd"], p("arr_usd")),
            help=TILES_HELP["arr"],
            spark=history["arr_usd"],
        )
    with row1[2]:
        ui.tile(
            "Net new MRR",
            fmt.money_short(cur["net_new_mrr_usd"], signed=True),
            fmt.delta_money(cur["net_new_mrr_usd"], p("net_new_mrr_usd")),
            help=TILES_HELP["net_new"],
            spark=history["net_new_mrr_usd"],
        )
    with row1[3]:
        ui.tile(
            "Revenue (recognized)",
            fmt.money_short(cur["revenue_usd"]),
            fmt.delta_money(cur["revenue_usd"], p("revenue_usd")),
            help=TILES_HELP["revenue"],
            spark=history["revenue_usd"],
        )
    with row2[0]:
        ui.tile(
            "NRR (trailing 12 m)",
            fmt.pct(cur["nrr_t12"]),
            fmt.delta_pp(cur["nrr_t12"], p("nrr_t12")),
            help=TILES_HELP["nrr"],
            spark=history["nrr_t12"],
        )
    with row2[1]:
        ui.tile(
            "GRR (trailing 12 m)",
            fmt.pct(cur["grr_t12"]),
            fmt.delta_pp(cur["grr_t12"], p("grr_t12")),
            help=TILES_HELP["grr"],
            spark=history["grr_t12"],
        )
    with row2[2]:
        ui.tile(
            "Logo churn",
            fmt.pct(cur["logo_churn_rate"]),
            fmt.delta_pp(cur["logo_churn_rate"], p("logo_churn_rate")),
            inverse=True,
            help=TILES_HELP["churn"],
            spark=history["logo_churn_rate"],
        )
    with row2[3]:
        ui.tile(
            "Deferred revenue",
            fmt.money_short(cur["deferred_revenue_usd"]),
            fmt.delta_money(cur["deferred_revenue_usd"], p("deferred_revenue_usd")),
            help=TILES_HELP["deferred"],
            spark=history["deferred_revenue_usd"],
        )
    if fmt.as_date(kpis["month"].iloc[-1]) > month:
        st.caption(
            f"{fmt.month_label(kpis['month'].iloc[-1])} is still open (recognized to date) and "
            "is left out of the tiles; the charts show it."
        )

    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(charts.mrr_trend(kpis, highlight=month), width="stretch")
    with right:
        if not ui.has(wh, "mrr_bridge_monthly"):
            ui.not_built("mrr_bridge_monthly", "MRR bridge")
            return
        bridge = query(wh, "mrr_bridge")
        options = [fmt.as_date(m) for m in reversed(bridge["month"].tolist())]
        chosen = st.selectbox(
            "Bridge month",
            options,
            index=options.index(month) if month in options else 0,
            format_func=fmt.month_label,
            key="bridge_month",
        )
        row = ui.row_for(bridge, chosen)
        if row is not None:
            st.plotly_chart(charts.mrr_waterfall(row), width="stretch")
    st.plotly_chart(charts.mrr_movements(bridge), width="stretch")


ui.guarded(render)
