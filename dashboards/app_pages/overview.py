"""Overview: the CFO's first screen — KPI tiles for the latest full month (all from
marts.kpi_monthly), MRR trend and bridge."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import streamlit as st

from dashboards.lib import charts, fmt, labels, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.fmt import Currency


class Tile(NamedTuple):
    """One KPI tile: a column of marts.kpi_monthly, how to show it, and what it means."""

    label: str
    column: str
    kind: Literal["money", "signed_money", "pct", "days"]
    help: str
    inverse: bool = False  # a rise is bad news (churn)

    def show(self, value: Any, prior: Any, cur: Currency) -> tuple[str, str | None]:
        """The tile's value and its delta vs the prior month, money in the reporting currency."""
        if self.kind in ("money", "signed_money"):
            text = fmt.money_short(value, cur, signed=self.kind == "signed_money")
            return text, fmt.delta_money(value, prior, cur)
        if self.kind == "pct":
            return fmt.pct(value), fmt.delta_pp(value, prior)
        return fmt.days(value), fmt.delta_days(value, prior)


#: The twelve tiles in display order (three rows of four).
TILES: tuple[Tile, ...] = (
    Tile(
        "MRR",
        "mrr_usd",
        "money",
        "Sum of account MRR on the month's last day (R5) = the MRR bridge's closing.",
    ),
    Tile("ARR", "arr_usd", "money", "12 × MRR (R5)."),
    Tile(
        "Net new MRR",
        "net_new_mrr_usd",
        "signed_money",
        "New + reactivation + expansion + contraction + churn, FX excluded (R5).",
    ),
    Tile(labels.REVENUE, "revenue_usd", "money", labels.REVENUE_HELP),
    Tile("NRR (trailing 12 m)", "nrr_t12", "pct", "Trailing-12 net revenue retention (R6)."),
    Tile("GRR (trailing 12 m)", "grr_t12", "pct", "Trailing-12 gross revenue retention (R6)."),
    Tile(
        "Logo churn",
        "logo_churn_rate",
        "pct",
        "Accounts churned in the month / accounts with MRR at the prior month end (R6).",
        inverse=True,
    ),
    Tile(
        "Gross margin",
        "gross_margin_pct",
        "pct",
        "(Revenue − COGS) / revenue; COGS = vendor COGS (allocated and unallocated), support "
        "and implementation cost (R7).",
    ),
    Tile(
        "Deferred revenue",
        "deferred_revenue_usd",
        "money",
        "Deferred revenue at the month's end (R4 waterfall closing).",
    ),
    Tile(
        "Accounts receivable",
        "ar_usd",
        "money",
        "Open balances of issued invoices at the month's end, void excluded (R8).",
        inverse=True,
    ),
    Tile(
        "DSO",
        "dso_days",
        "days",
        "AR at the month's end / billings of the last 90 days × 90 (R8).",
        inverse=True,
    ),
    Tile(
        "Bookings",
        "bookings_usd",
        "money",
        "Closed-won opportunity amounts with close date in the month (R10).",
    ),
)


def render(wh: Warehouse) -> None:
    st.title("Executive overview")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)

    if not ui.has(wh, "kpi_monthly"):
        ui.not_built("kpi_monthly", "Executive KPIs")
        return
    kpis = query(wh, "kpis_by_month", ui.as_of_month(run))
    if kpis.empty:
        st.info("kpi_monthly has no rows yet in this build.")
        return
    month = fmt.latest_full_month(list(kpis["month"]), ui.as_of(run))
    if month is None:
        st.info("No full month has closed yet in this build; the tiles appear after month end.")
        return
    row, prev = ui.row_for(kpis, month), ui.prior_row(kpis, month)
    assert row is not None  # month comes from kpis
    history = kpis[kpis["month"].map(fmt.as_date) <= month].tail(12)

    st.subheader(f"{fmt.month_label(month)} at a glance")
    slots = [slot for _ in range(len(TILES) // 4) for slot in st.columns(4)]
    for slot, t in zip(slots, TILES, strict=True):
        value, delta = t.show(row[t.column], None if prev is None else prev[t.column], cur)
        with slot:
            ui.tile(
                t.label,
                value,
                delta,
                inverse=t.inverse,
                help=t.help,
                spark=history[t.column],
            )
    complete = row.get("cogs_is_complete")
    if not fmt.is_missing(complete) and not bool(complete):
        st.caption(
            "Gross margin is provisional: some vendors have not billed "
            f"{fmt.month_label(month)} yet (they bill in arrears), so its COGS will still grow."
        )
    if fmt.as_date(kpis["month"].iloc[-1]) > month:
        st.caption(
            f"{fmt.month_label(kpis['month'].iloc[-1])} is still open (recognized to date) and "
            "is left out of the tiles; the charts show it."
        )

    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(charts.mrr_trend(kpis, cur, highlight=month), width="stretch")
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
        bridge_row = ui.row_for(bridge, chosen)
        if bridge_row is not None:
            st.plotly_chart(charts.mrr_waterfall(bridge_row, cur), width="stretch")
    st.plotly_chart(charts.mrr_movements(bridge, cur), width="stretch")


ui.guarded(render)
