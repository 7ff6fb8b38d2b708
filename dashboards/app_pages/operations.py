"""Operations: onboarding cycle time and the implementation backlog (overdue flagged), support
SLA, first-response and resolution times, CSAT, the support-to-renewal view, approval cycle
times, pending approvals and segregation-of-duties breaches (R10).

Every figure is a mart column read through `queries_ops`; a median or rate the mart leaves NULL
(nothing to measure) is shown as "n/a". The global filters apply where they can: the period to
every monthly chart and table, the tiles to its last month (delta vs the comparison month);
segment and region to the lists of implementations and tickets (their marts carry the account),
not to onboarding_monthly, support_monthly, support_renewal_risk or the approvals, which are
company-wide. Clicking a month of the onboarding or SLA chart lists its implementations or
tickets; a selected row opens its account in Account 360."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import charts, fmt, links, queries_ops, sidebar, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters
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
COMPANY_WIDE = "Company-wide ({mart}): segment and region filters don't apply."


def _na(value: Any, show: Any) -> str:
    """A mart median, rate or average as text; NULL (nothing measured) as "n/a"."""
    return NA if fmt.is_missing(value) else show(value)


def _hours(value: Any) -> str:
    return f"{float(value):,.1f} h"


def _score(value: Any) -> str:
    return f"{float(value):.2f} / 5"


def _delta(current: Any, previous: Any, unit: str = "", decimals: int = 0) -> str | None:
    """Signed change of a count, hours or score for a tile delta; None when a side is
    missing."""
    if fmt.is_missing(current) or fmt.is_missing(previous):
        return None
    return f"{float(current) - float(previous):+,.{decimals}f}{unit}"


def _na_col(df: pd.DataFrame, show: dict[str, Any]) -> pd.DataFrame:
    """`df` with the named columns as text, NULL as "n/a"."""
    return df.assign(**{c: df[c].map(lambda v, f=f: _na(v, f)) for c, f in show.items()})


def _tile_rows(
    wh: Warehouse, name: str, f: Filters, month: dt.date | None
) -> tuple[pd.DataFrame, pd.Series | None, pd.Series | None]:
    """A monthly mart read from the comparison month to the tile month: the frame of the
    period, the tile month's row and the comparison month's row."""
    since = None if f.start is None or month is None else min(f.start, f.compare_to(month))
    df = query(wh, name, since, month)
    if month is None:
        return df, None, None
    row, prev = ui.row_for(df, month), ui.row_for(df, f.compare_to(month))
    in_period = df if f.start is None else df[df["month"].map(fmt.as_date) >= f.start]
    return in_period, row, prev


def _get(row: pd.Series | None, col: str) -> Any:
    return None if row is None else row[col]


def _months(df: pd.DataFrame) -> list[dt.date]:
    """The frame's months, newest first (a month selector's options)."""
    return sorted((m for m in (fmt.as_date(v) for v in df["month"]) if m), reverse=True)


def _month_picker(label: str, key: str, months: list[dt.date], clicked: Any) -> dt.date | str:
    """A month selector (the whole period first) that a click on the chart above sets."""
    links.follow_click(key, clicked, [ALL, *months])
    return st.selectbox(
        label,
        [ALL, *months],
        format_func=lambda m: "The whole period" if m == ALL else fmt.month_label(m),
        key=key,
    )


def _onboarding(wh: Warehouse, f: Filters, month: dt.date | None, cur: Currency) -> None:
    st.subheader("Onboarding")
    trend, row, prev = _tile_rows(wh, "onboarding_trend", f, month)
    if trend.empty and row is None:
        st.info("No implementations are known in these months, so there is no onboarding to show.")
        return
    vs = links.compared_with(f)
    if row is not None and month is not None:
        st.caption(
            f"**{fmt.month_label(month)}** · " + COMPANY_WIDE.format(mart="onboarding_monthly")
        )
        ui.tiles(
            [
                ui.Tile(
                    "Implementation backlog",
                    f"{int(row['backlog']):,}",
                    _delta(row["backlog"], _get(prev, "backlog")),
                    inverse=True,
                    delta_description=vs,
                    help="Implementations neither live nor cancelled at the month's end (the as-of "
                    "date in the as-of month).",
                ),
                ui.Tile(
                    "Overdue implementations",
                    f"{int(row['overdue']):,}",
                    _delta(row["overdue"], _get(prev, "overdue")),
                    inverse=True,
                    delta_description=vs,
                    help="Backlog implementations past their target go-live date at the month's "
                    "end.",
                ),
                ui.Tile(
                    "Onboarding cycle, median",
                    _na(row["onboarding_days_p50"], fmt.days),
                    fmt.delta_days(row["onboarding_days_p50"], _get(prev, "onboarding_days_p50")),
                    inverse=True,
                    delta_description=vs,
                    help="Median days from contract signature to go-live of the month's go-lives; "
                    "n/a when none went live.",
                ),
            ],
            3,
        )
    event = None
    if not trend.empty:
        event = st.plotly_chart(
            charts.onboarding_months(trend),
            width="stretch",
            on_select="rerun",
            selection_mode="points",
            key="onboarding_chart",
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
    _went_live(wh, f, _months(trend), links.selected_month(event), cur)
    _backlog(wh, f, cur)


def _went_live(
    wh: Warehouse, f: Filters, months: list[dt.date], clicked: Any, cur: Currency
) -> None:
    st.markdown("**Go-lives** — click a month on the chart for its implementations")
    month = _month_picker("Went live in", "live_month", months, clicked)
    start, end = (f.start, f.end) if month == ALL else (month, month)
    df = query(wh, "implementations_went_live", start, end, f.segment, f.region)
    if df.empty:
        st.info("No implementation of these accounts went live in these months.")
        return
    st.caption(f"{len(df):,} implementations went live, latest first.")
    links.account_table(df, cur, key="went_live", height=280)


def _backlog(wh: Warehouse, f: Filters, cur: Currency) -> None:
    st.markdown("**Implementation backlog at the as-of date** (segment and region apply)")
    overdue_only = st.toggle("Overdue only", key="backlog_overdue")
    backlog = query(wh, "implementation_backlog", bool(overdue_only), f.segment, f.region)
    if backlog.empty:
        whose = " of these accounts" if f.segment or f.region else ""
        st.info(
            f"No overdue implementations: every open implementation{whose} is within its "
            "target go-live date."
            if overdue_only
            else f"No implementation backlog: every implementation{whose} is live or cancelled."
        )
        return
    st.caption(f"{len(backlog):,} open implementations, overdue and longest late first.")
    links.account_table(backlog, cur, key="backlog", height=320)


def _support(wh: Warehouse, f: Filters, month: dt.date | None, cur: Currency) -> None:
    st.subheader("Support")
    trend, row, prev = _tile_rows(wh, "support_trend", f, month)
    if trend.empty and row is None:
        st.info("No support tickets were created in these months, so there is no support to show.")
        return
    vs = links.compared_with(f)
    if row is not None and month is not None:
        st.caption(f"**{fmt.month_label(month)}** · " + COMPANY_WIDE.format(mart="support_monthly"))
        ui.tiles(
            [
                ui.Tile(
                    "SLA met",
                    _na(row["sla_met_rate"], fmt.pct),
                    fmt.delta_pp(row["sla_met_rate"], _get(prev, "sla_met_rate")),
                    delta_description=vs,
                    help="Tickets first answered within their priority's SLA; n/a when none "
                    "measured.",
                ),
                ui.Tile(
                    "First response, median",
                    _na(row["first_response_hours_p50"], _hours),
                    _delta(
                        row["first_response_hours_p50"],
                        _get(prev, "first_response_hours_p50"),
                        " h",
                        1,
                    ),
                    inverse=True,
                    delta_description=vs,
                    help="Median hours to the first response of the month's answered tickets.",
                ),
                ui.Tile(
                    "Resolution, median",
                    _na(row["resolution_hours_p50"], _hours),
                    _delta(
                        row["resolution_hours_p50"], _get(prev, "resolution_hours_p50"), " h", 1
                    ),
                    inverse=True,
                    delta_description=vs,
                    help="Median hours to solved of the month's solved tickets.",
                ),
                ui.Tile(
                    "CSAT",
                    _na(row["csat_avg"], _score),
                    _delta(row["csat_avg"], _get(prev, "csat_avg"), "", 2),
                    delta_description=vs,
                    help="Average CSAT of the month's rated tickets; n/a when none rated.",
                ),
            ],
            4,
        )
    if trend.empty:
        return
    event = st.plotly_chart(
        charts.rate_lines(
            trend, (("sla_met_rate", "SLA met rate", charts.BLUE),), "SLA met rate by month"
        ),
        width="stretch",
        on_select="rerun",
        selection_mode="points",
        key="sla_chart",
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
    if not ui.has(wh, "fct_tickets"):
        st.caption(
            "The tickets behind a month are listed here once the build publishes "
            "`marts.fct_tickets`."
        )
        return
    st.markdown("**Tickets** — click a month on the chart for the tickets created in it")
    month_picked = _month_picker(
        "Created in", "ticket_month", _months(trend), links.selected_month(event)
    )
    start, end = (f.start, f.end) if month_picked == ALL else (month_picked, month_picked)
    df = query(wh, "tickets", start, end, f.segment, f.region)
    if df.empty:
        st.info("No tickets of these accounts were created in these months.")
        return
    st.caption(f"{len(df):,} tickets, newest first (segment and region apply).")
    links.account_table(df, cur, key="tickets", height=320)


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
        "90 days before it, best experience first. All history, company-wide "
        "(support_renewal_risk): the period, segment and region filters don't apply."
    )
    ui.table(
        _na_col(risk, {"churn_rate": fmt.pct, "contraction_rate": fmt.pct}).assign(
            bucket=risk["bucket"].map(lambda b: BUCKET_LABELS.get(b, b))
        ),
        cur,
    )


def _approvals(wh: Warehouse, f: Filters, month: dt.date | None, cur: Currency) -> None:
    st.subheader("Approvals")
    counts = query(wh, "approval_counts").iloc[0]
    if int(counts["requests"]) == 0:
        st.info("No contract or purchase order has been submitted for approval yet.")
        return
    _totals, row, prev = _tile_rows(wh, "approvals_totals", f, month)
    vs = links.compared_with(f)
    st.caption(
        (f"**{fmt.month_label(month)}** · " if month else "")
        + "Company-wide (approvals, approvals_monthly: purchase orders belong to vendors, not "
        "accounts): segment and region filters don't apply."
    )
    ui.tiles(
        [
            ui.Tile(
                "Pending approvals",
                NA if row is None else f"{int(row['pending_at_month_end']):,}",
                _delta(_get(row, "pending_at_month_end"), _get(prev, "pending_at_month_end")),
                inverse=True,
                delta_description=vs,
                help="Contracts and purchase orders submitted and neither approved nor rejected at "
                "the month's end. The list below shows those pending at the as-of date.",
            ),
            ui.Tile(
                "Segregation-of-duties breaches",
                NA if row is None else f"{int(row['sod_breaches']):,}",
                _delta(_get(row, "sod_breaches"), _get(prev, "sod_breaches")),
                inverse=True,
                delta_description=vs,
                help="Requests of the month approved by the person who created or requested them.",
            ),
        ],
        3,
    )
    trend = query(wh, "approvals_trend", f.start, f.end)
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
    if "approval_list" not in st.session_state:
        st.session_state["approval_list"] = "pending"
    which = f1.segmented_control(
        "List",
        list(queries_ops.APPROVAL_LISTS),
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
    st.caption(
        f"{len(df):,} requests at the as-of date (all history); amounts in each request's own "
        "currency."
    )
    links.account_table(df, cur, key="approvals", money=["amount"], height=320)


def render(wh: Warehouse) -> None:
    st.title("Operations")
    run = ui.build_caption(wh)
    cur = ui.currency(wh)
    f = sidebar.current()
    month = f.end or ui.as_of_month(run)
    if ui.has(wh, "onboarding_monthly") and ui.has(wh, "onboarding"):
        _onboarding(wh, f, month, cur)
    else:
        ui.not_built("onboarding_monthly", "Onboarding")
    if ui.has(wh, "support_monthly"):
        _support(wh, f, month, cur)
    else:
        ui.not_built("support_monthly", "Support")
    if ui.has(wh, "support_renewal_risk"):
        _renewal(wh, cur)
    else:
        ui.not_built("support_renewal_risk", "Support experience and renewal")
    if ui.has(wh, "approvals") and ui.has(wh, "approvals_monthly"):
        _approvals(wh, f, month, cur)
    else:
        ui.not_built("approvals", "Approvals")


ui.guarded(render)
