"""Overview: the CFO's first screen — KPI tiles for the period's last month with deltas vs the
comparison month (all from marts.kpi_monthly), MRR trend and bridge over the period."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, NamedTuple

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, labels, sidebar, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters
from dashboards.lib.fmt import Currency


class Tile(NamedTuple):
    """One KPI tile: a column of marts.kpi_monthly, how to show it, and what it means."""

    label: str
    column: str
    kind: Literal["money", "signed_money", "pct", "days", "count"]
    help: str
    inverse: bool = False  # a rise is bad news (churn)

    def show(self, value: Any, prior: Any, cur: Currency) -> tuple[str, str | None]:
        """The tile's value and its delta vs the prior month, money in the reporting currency."""
        if self.kind in ("money", "signed_money"):
            text = fmt.money_short(value, cur, signed=self.kind == "signed_money")
            return text, fmt.delta_money(value, prior, cur)
        if self.kind == "pct":
            return fmt.pct(value), fmt.delta_pp(value, prior)
        if self.kind == "count":
            delta = None if fmt.is_missing(prior) else f"{int(value) - int(prior):+,}"
            return f"{int(value):,}", delta
        return fmt.days(value), fmt.delta_days(value, prior)


#: The sixteen tiles in display order (four rows of four).
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
    Tile(
        "Billing leakage",
        "billing_leakage_usd",
        "money",
        "Contracted amounts billed short — expected − issued where positive, for billing "
        "periods starting in the month (R9); the Cash page lists the exceptions behind it.",
        inverse=True,
    ),
    Tile("Collected", "collected_usd", "money", "Succeeded payments in the month (R8)."),
    Tile(
        "Failed payment rate",
        "failed_payment_rate",
        "pct",
        "Failed ÷ all payment attempts in the month (R8); n/a without attempts.",
        inverse=True,
    ),
    Tile(
        "Active accounts",
        "active_accounts",
        "count",
        "Accounts with MRR on the month's last day (R6).",
    ),
)


def _tiles(kpis: pd.DataFrame, month: dt.date, f: Filters, cur: Currency) -> None:
    """The tiles of `month` with deltas vs the comparison month and sparklines over the period."""
    row, base = ui.row_for(kpis, month), ui.row_for(kpis, f.compare_to(month))
    assert row is not None  # month comes from kpis
    history = kpis[kpis["month"].map(fmt.as_date).between(f.start or month, month)]
    versus = f"vs {fmt.month_label(f.compare_to(month), short=True)} ({f.comparison_label})"
    slots = [slot for _ in range(len(TILES) // 4) for slot in st.columns(4)]
    for slot, t in zip(slots, TILES, strict=True):
        value, delta = t.show(row[t.column], None if base is None else base[t.column], cur)
        with slot:
            ui.tile(
                t.label,
                value,
                delta,
                inverse=t.inverse,
                help=t.help,
                spark=history[t.column],
                delta_description=versus,
            )
    complete = row.get("cogs_is_complete")
    if not fmt.is_missing(complete) and not bool(complete):
        st.caption(
            "Gross margin is provisional: some vendors have not billed "
            f"{fmt.month_label(month)} yet (they bill in arrears), so its COGS will still grow."
        )


def render(wh: Warehouse) -> None:
    st.title("Executive overview")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    f = sidebar.current()

    if not ui.has(wh, "kpi_monthly"):
        ui.not_built("kpi_monthly", "Executive KPIs")
        return
    kpis = query(wh, "kpis_by_month", ui.as_of_month(run))
    if kpis.empty:
        st.info("kpi_monthly has no rows yet in this build.")
        return
    latest = fmt.latest_full_month(list(kpis["month"]), ui.as_of(run))
    if latest is None:
        st.info("No full month has closed yet in this build; the tiles appear after month end.")
        return
    month = f.end if f.end is not None and ui.row_for(kpis, f.end) is not None else latest

    st.subheader(f"{fmt.month_label(month)} at a glance")
    if f.dimensions:
        st.caption(
            f"Company-wide figures: `kpi_monthly` has no breakdown, so the {_names(f)} filter "
            "applies on the Revenue, Margins, Cash, Customers and Operations pages, not here."
        )
    _tiles(kpis, month, f, cur)
    if fmt.as_date(kpis["month"].iloc[-1]) > latest and month == latest:
        st.caption(
            f"{fmt.month_label(kpis['month'].iloc[-1])} is still open (recognized to date) and "
            "is left out of the tiles; the charts show it."
        )
    start = f.start or fmt.as_date(kpis["month"].iloc[0])
    shown = kpis[kpis["month"].map(fmt.as_date) >= start]
    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(charts.mrr_trend(shown, cur, highlight=month), width="stretch")
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
    moves = bridge[bridge["month"].map(fmt.as_date).between(start, month)]
    st.plotly_chart(charts.mrr_movements(moves, cur), width="stretch")
    st.caption(f"Period: {f.describe() if f.start else 'all months'}.")


def _names(f: Filters) -> str:
    """ "segment and region" for the set dimension filters."""
    return " and ".join(k.replace("_", " ") for k in f.dimensions)


ui.guarded(render)
