"""Plotly figure builders (no Streamlit). The one place money becomes float: at the chart edge.

Money axes, hover labels and bar texts carry the build's reporting currency (`fmt.Currency`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboards.lib import fmt, labels
from dashboards.lib.fmt import Currency

NAVY = "#1B365D"
BLUE = "#2F6DB5"
TEAL = "#2A9D8F"
GREEN = "#2E9E5B"
LIGHT_GREEN = "#8CCB9B"
ORANGE = "#E9A23B"
RED = "#D1495B"
GREY = "#8D99AE"
PURPLE = "#7B6A9E"
FAMILY_COLORS = [NAVY, TEAL, ORANGE, PURPLE, BLUE, GREY, LIGHT_GREEN]


def money_hover(cur: Currency, label: str = "", axis: str = "y", data: str | None = None) -> str:
    """A hover template `label €1,234` for a money value (of `axis`, or of `customdata`)."""
    field = data or axis
    lead = f"{label} " if label else ""
    return f"{lead}{cur.prefix}%{{{field}:,.{cur.decimals}f}}<extra></extra>"


def _money_axis(fig: go.Figure, cur: Currency, axis: str = "y", **kw: Any) -> None:
    """Money ticks with the currency in front (`€1.2M`); d3's SI format for the scale."""
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(tickprefix=cur.prefix, tickformat="~s", **kw)


def _money_bar(fig: go.Figure, x: Any, values: Any, name: str, color: str, cur: Currency) -> None:
    """One bar series of amounts in the reporting currency, its hover naming the series."""
    fig.add_bar(
        x=x, y=floats(values), name=name, marker_color=color, hovertemplate=money_hover(cur, name)
    )


def floats(values: Any) -> pd.Series:
    """Decimal/None series → float/NaN series, for plotting only."""
    return pd.to_numeric(pd.Series(values).map(lambda v: None if fmt.is_missing(v) else float(v)))


def months(values: Any) -> pd.Series:
    """Month dates → Timestamps for a date axis."""
    return pd.to_datetime(pd.Series(values))


def _style(fig: go.Figure, title: str | None = None, height: int = 360) -> go.Figure:
    fig.update_layout(
        title=(
            {
                "text": title,
                "x": 0,
                "xanchor": "left",
                "y": 1,
                "yref": "container",
                "yanchor": "top",
                "pad": {"t": 8},
                "font": {"size": 15},
            }
            if title
            else None
        ),
        height=height,
        margin={"l": 8, "r": 8, "t": 72 if title else 16, "b": 8},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "xanchor": "left", "x": 0},
        hovermode="x unified",
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="rgba(128,128,128,0.18)", zerolinecolor="rgba(128,128,128,0.4)")
    return fig


def _month_axis(fig: go.Figure) -> None:
    fig.update_xaxes(tickformat="%b %y", hoverformat="%B %Y")


def empty(message: str) -> go.Figure:
    """A blank figure carrying a note, for a chart with no rows."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14, "color": GREY})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, height=220)


def mrr_trend(kpis: pd.DataFrame, cur: Currency, highlight: Any = None) -> go.Figure:
    """MRR by month (area), the tile month marked."""
    x, y = months(kpis["month"]), floats(kpis["mrr_usd"])
    arr = floats(kpis["arr_usd"]) if "arr_usd" in kpis else y * 12
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            name="MRR",
            mode="lines+markers",
            line={"color": NAVY, "width": 2.5, "shape": "spline", "smoothing": 0.4},
            marker={"size": 6},
            fill="tozeroy",
            fillcolor="rgba(27,54,93,0.10)",
            customdata=arr,
            hovertemplate=f"MRR {cur.prefix}%{{y:,.0f}}<br>"
            + money_hover(cur, "ARR", data="customdata"),
        )
    )
    if highlight is not None:
        fig.add_vline(x=pd.Timestamp(highlight), line={"color": GREY, "dash": "dot", "width": 1})
    _money_axis(fig, cur, rangemode="tozero")
    _month_axis(fig)
    return _style(fig, f"Monthly recurring revenue {cur.label}")


MOVEMENTS: tuple[tuple[str, str, str], ...] = (
    ("new_usd", "New", GREEN),
    ("reactivation_usd", "Reactivation", TEAL),
    ("expansion_usd", "Expansion", LIGHT_GREEN),
    ("contraction_usd", "Contraction", ORANGE),
    ("churn_usd", "Churn", RED),
    ("fx_usd", "FX", GREY),
)


def mrr_movements(bridge: pd.DataFrame, cur: Currency) -> go.Figure:
    """Monthly MRR movements stacked around zero (gains up, losses down)."""
    fig = go.Figure()
    x = months(bridge["month"])
    for col, label, color in MOVEMENTS:
        if col in bridge:
            fig.add_bar(
                x=x,
                y=floats(bridge[col]),
                name=label,
                marker_color=color,
                hovertemplate=money_hover(cur, label),
            )
    fig.update_layout(barmode="relative", bargap=0.25)
    _money_axis(fig, cur)
    _month_axis(fig)
    return _style(fig, f"MRR movements by month {cur.label}")


def mrr_waterfall(row: pd.Series, cur: Currency) -> go.Figure:
    """One month's bridge: opening → movements → closing (R5: it closes exactly).

    The value axis is zoomed onto the movements (a month's movements are a few percent of MRR,
    invisible on an axis from zero); the opening and closing bars carry their values as text.
    """
    cols = [c for c, _, _ in MOVEMENTS]
    labels = ["Opening", *(label for _, label, _ in MOVEMENTS), "Closing"]
    values = [row["opening_mrr_usd"], *(row[c] for c in cols), row["closing_mrr_usd"]]
    ys = floats(values).fillna(0).tolist()
    levels = [ys[0]]
    for v in ys[1:-1]:
        levels.append(levels[-1] + v)
    levels.append(ys[-1])
    lo, hi = min(levels), max(levels)
    pad = max((hi - lo) * 0.35, abs(hi) * 0.01, 1.0)
    bottom = 0.0 if lo - 2 * pad <= 0 or lo < hi * 0.3 else lo - 2 * pad
    text = [
        fmt.money_short(v, cur, signed=0 < i < len(values) - 1)
        if i in (0, len(values) - 1) or ys[i] != 0
        else ""
        for i, v in enumerate(values)
    ]
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            y=ys,
            measure=["absolute", *["relative"] * len(MOVEMENTS), "total"],
            text=text,
            textposition="outside",
            cliponaxis=False,
            connector={"line": {"color": "rgba(128,128,128,0.5)", "width": 1}},
            increasing={"marker": {"color": GREEN}},
            decreasing={"marker": {"color": RED}},
            totals={"marker": {"color": NAVY}},
            base=0,
            hovertemplate=f"%{{x}}: {cur.prefix}%{{y:,.{cur.decimals}f}}<extra></extra>",
        )
    )
    _money_axis(fig, cur, range=[bottom, hi + pad])
    fig.update_xaxes(tickangle=-30, tickfont={"size": 11})
    fig.update_layout(hovermode="closest", showlegend=False)
    title = f"MRR bridge — {fmt.month_label(row['month'])} {cur.label}"
    if bottom > 0:
        title += "  <span style='font-size:11px;color:#8D99AE'>(axis zoomed)</span>"
    return _style(fig, title)


def family_label(value: Any) -> str:
    """`platform` → `Platform`; no family (credit notes spanning families) → `Credits, other`."""
    if fmt.is_missing(value):
        return "Credits, other"
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def revenue_by_family(df: pd.DataFrame, cur: Currency) -> go.Figure:
    """Revenue (recognized, month-end rates) per month stacked by product family (credits below
    zero)."""
    data = df.assign(
        product_family=df["product_family"].map(family_label),
        recognized=floats(df["recognized_usd"]).values,
        x=months(df["month"]).values,
    )
    fig = go.Figure()
    families = data.groupby("product_family")["recognized"].sum().sort_values(ascending=False).index
    for i, fam in enumerate(families):
        part = data[data["product_family"] == fam]
        fig.add_bar(
            x=part["x"],
            y=part["recognized"],
            name=fam,
            marker_color=FAMILY_COLORS[i % len(FAMILY_COLORS)],
            hovertemplate=money_hover(cur, fam),
        )
    fig.update_layout(barmode="relative", bargap=0.25)
    _money_axis(fig, cur)
    _month_axis(fig)
    return _style(fig, f"{labels.REVENUE} by product family {cur.label}", height=380)


def deferred_rollforward(df: pd.DataFrame, cur: Currency) -> go.Figure:
    """Billings in, recognition (invoice-date rates) out, closing deferred (and unbilled) balance
    per month."""
    x = months(df["month"])
    fig = go.Figure()
    _money_bar(fig, x, df["billings_usd"], "Billings", BLUE, cur)
    fig.add_bar(
        x=x,
        y=-floats(df["recognized_usd"]),
        name=labels.RECOGNIZED_AT_INVOICE_RATES,
        marker_color=ORANGE,
        customdata=floats(df["recognized_usd"]),
        hovertemplate=money_hover(cur, labels.RECOGNIZED_AT_INVOICE_RATES, data="customdata"),
    )
    fig.add_scatter(
        x=x,
        y=floats(df["closing_usd"]),
        name="Closing deferred",
        mode="lines+markers",
        line={"color": NAVY, "width": 2.5},
        hovertemplate=money_hover(cur, "Closing deferred"),
    )
    if "unbilled_usd" in df and floats(df["unbilled_usd"]).fillna(0).abs().sum() > 0:
        fig.add_scatter(
            x=x,
            y=floats(df["unbilled_usd"]),
            name="Unbilled",
            mode="lines",
            line={"color": PURPLE, "dash": "dot"},
            hovertemplate=money_hover(cur, "Unbilled"),
        )
    fig.update_layout(barmode="relative", bargap=0.3)
    _money_axis(fig, cur)
    _month_axis(fig)
    return _style(fig, f"Deferred revenue roll-forward {cur.label}", height=380)


def rate_lines(
    df: pd.DataFrame,
    series: Sequence[tuple[str, str, str]],
    title: str,
    reference: float | None = None,
) -> go.Figure:
    """Rates (fractions) over months as percentage lines, optional reference line."""
    x = months(df["month"])
    fig = go.Figure()
    for col, label, color in series:
        if col in df:
            fig.add_scatter(
                x=x,
                y=floats(df[col]),
                name=label,
                mode="lines+markers",
                line={"color": color, "width": 2.2},
                connectgaps=False,
                hovertemplate=f"{label} %{{y:.1%}}<extra></extra>",
            )
    if reference is not None:
        fig.add_hline(y=reference, line={"color": GREY, "dash": "dot", "width": 1})
    fig.update_yaxes(tickformat=".0%")
    _month_axis(fig)
    return _style(fig, title)


#: Above this many months-since-start columns the heatmap drops its in-cell percentages.
CELL_LABELS_MAX_COLUMNS = 18


def cohort_heatmap(df: pd.DataFrame, label: str) -> go.Figure:
    """Cohort × months since start, coloured by retention (fractions shown as %)."""
    z = df.assign(v=floats(df["value"]).values).pivot_table(
        index="cohort_month", columns="months_since_start", values="v", aggfunc="first"
    )
    z = z.sort_index()
    ylabels = [fmt.month_label(m, short=True) for m in z.index]
    text = [[fmt.pct(v, 0) if not pd.isna(v) else "" for v in row] for row in z.to_numpy()]
    # cell labels only while they fit; a long history is read by colour and hover
    show_text = z.shape[1] <= CELL_LABELS_MAX_COLUMNS
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy(),
            x=[str(c) for c in z.columns],
            y=ylabels,
            text=text,
            texttemplate="%{text}" if show_text else None,
            textfont={"size": 10},
            colorscale=[[0, "#F7E1E4"], [0.5, "#9CC3E6"], [1, NAVY]],
            zmin=0,
            zmax=max(1.0, float(pd.Series(z.to_numpy().ravel()).max(skipna=True) or 1)),
            colorbar={"tickformat": ".0%", "thickness": 12},
            hovertemplate="Cohort %{y}, month %{x}: %{z:.1%}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="months since start", type="category")
    fig.update_layout(hovermode="closest")
    return _style(fig, f"Cohort {label}", height=max(320, 28 * len(ylabels) + 120))


def mrr_by_segment(df: pd.DataFrame, cur: Currency) -> go.Figure:
    """Current MRR per segment, stacked by region (horizontal bars)."""
    data = df.assign(mrr=floats(df["current_mrr_usd"]).values)
    fig = go.Figure()
    for i, region in enumerate(sorted(data["region"].dropna().unique())):
        part = data[data["region"] == region]
        fig.add_bar(
            y=part["segment"],
            x=part["mrr"],
            name=region,
            orientation="h",
            marker_color=FAMILY_COLORS[i % len(FAMILY_COLORS)],
            hovertemplate=money_hover(cur, region, axis="x"),
        )
    fig.update_layout(barmode="stack", hovermode="y unified")
    _money_axis(fig, cur, axis="x")
    return _style(fig, f"Current MRR by segment and region {cur.label}", height=300)


def counts_bar(df: pd.DataFrame, label_col: str, value_col: str, title: str) -> go.Figure:
    """Horizontal bars of a count per label, largest on top."""
    data = df.groupby(label_col, dropna=False)[value_col].sum().sort_values()
    fig = go.Figure(
        go.Bar(
            y=[str(i) for i in data.index],
            x=floats(data.values),
            orientation="h",
            marker_color=RED,
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    fig.update_layout(hovermode="closest", showlegend=False)
    return _style(fig, title, height=max(220, 34 * len(data) + 90))


def aging_bars(df: pd.DataFrame, cur: Currency) -> go.Figure:
    """Open receivables per aging bucket (later mart ar_aging)."""
    colors = [GREEN, LIGHT_GREEN, ORANGE, "#E07A3F", RED]
    fig = go.Figure(
        go.Bar(
            x=df["bucket"],
            y=floats(df["open_usd"]),
            marker_color=colors[: len(df)] + [GREY] * max(0, len(df) - len(colors)),
            hovertemplate=money_hover(cur, "%{x}:"),
        )
    )
    _money_axis(fig, cur)
    fig.update_layout(hovermode="closest", showlegend=False)
    return _style(fig, f"Open receivables by age {cur.label}", height=300)


def collections_dso(df: pd.DataFrame, cur: Currency) -> go.Figure:
    """Billings and collections per month (bars) with DSO on a second axis (collections_monthly);
    months without DSO (no billings in the 90 days) leave a gap."""
    x = months(df["month"])
    fig = go.Figure()
    _money_bar(fig, x, df["billings_usd"], "Billings", BLUE, cur)
    _money_bar(fig, x, df["collected_usd"], "Collected", GREEN, cur)
    fig.add_scatter(
        x=x,
        y=floats(df["dso_days"]),
        name="DSO (days)",
        mode="lines+markers",
        yaxis="y2",
        connectgaps=False,
        line={"color": NAVY, "width": 2.2},
        hovertemplate="DSO %{y:,.1f} d<extra></extra>",
    )
    fig.update_layout(
        barmode="group",
        bargap=0.25,
        yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero"},
    )
    _money_axis(fig, cur)
    _month_axis(fig)
    return _style(fig, f"Billings, collections and DSO {cur.label}", height=380)


def leakage_months(df: pd.DataFrame, cur: Currency) -> go.Figure:
    """Billing leakage per month (billing_leakage_monthly) as bars, the exceptions in the hover;
    a bar is a month to click for its exceptions."""
    fig = go.Figure(
        go.Bar(
            x=months(df["month"]),
            y=floats(df["leakage_usd"]),
            customdata=df["exceptions"],
            marker_color=RED,
            hovertemplate=f"Leakage {cur.prefix}%{{y:,.{cur.decimals}f}}"
            " · %{customdata:,} exceptions<extra></extra>",
        )
    )
    fig.update_layout(hovermode="closest", showlegend=False, bargap=0.25)
    _money_axis(fig, cur)
    _month_axis(fig)
    return _style(fig, f"Billing leakage by month {cur.label}", height=320)


def onboarding_months(df: pd.DataFrame) -> go.Figure:
    """Go-lives per month (bars, click for that month's implementations) with the backlog and
    its overdue part at each month's end (lines), onboarding_monthly."""
    x = months(df["month"])
    fig = go.Figure()
    fig.add_bar(
        x=x,
        y=floats(df["went_live"]),
        name="Went live",
        marker_color=TEAL,
        hovertemplate="Went live %{y:,}<extra></extra>",
    )
    for col, label, color in (("backlog", "Backlog", NAVY), ("overdue", "Overdue", RED)):
        fig.add_scatter(
            x=x,
            y=floats(df[col]),
            name=f"{label} at month end",
            mode="lines+markers",
            line={"color": color, "width": 2.2},
            hovertemplate=f"{label} %{{y:,}}<extra></extra>",
        )
    fig.update_yaxes(rangemode="tozero")
    _month_axis(fig)
    return _style(fig, "Go-lives and implementation backlog by month", height=340)


# --- margins -----------------------------------------------------------------------------------


def cost_to_serve(totals: pd.DataFrame, kinds: dict[str, str], cur: Currency) -> go.Figure:
    """COGS per month stacked by kind (vendor, support, implementation) with gross margin as a
    line: the cost to serve and what is left of revenue."""
    x = months(totals["month"])
    fig = go.Figure()
    for i, (col, label) in enumerate(kinds.items()):
        fig.add_bar(
            x=x,
            y=floats(totals[col]),
            name=f"{label} cost",
            marker_color=[ORANGE, PURPLE, TEAL][i % 3],
            hovertemplate=money_hover(cur, f"{label} cost"),
        )
    fig.add_scatter(
        x=x,
        y=floats(totals["gross_margin_usd"]),
        name="Gross margin",
        mode="lines+markers",
        line={"color": NAVY, "width": 2.2},
        hovertemplate=money_hover(cur, "Gross margin"),
    )
    fig.update_layout(barmode="relative", bargap=0.25)
    _money_axis(fig, cur)
    _month_axis(fig)
    return _style(fig, f"Cost to serve and gross margin {cur.label}", height=380)


def vendor_bars(df: pd.DataFrame, cur: Currency) -> go.Figure:
    """Spend per vendor (one row each, largest first) as horizontal bars with the part lacking
    an approved PO; a bar is a vendor to click for its months."""
    data = df.iloc[::-1]  # largest on top
    fig = go.Figure()
    for col, label, color in (
        ("amount_usd", "Spend", NAVY),
        ("amount_without_approved_po_usd", "Without approved PO", RED),
    ):
        fig.add_bar(
            y=data["vendor_name"],
            x=floats(data[col]),
            name=label,
            orientation="h",
            marker_color=color,
            hovertemplate=money_hover(cur, label, axis="x"),
        )
    fig.update_layout(barmode="overlay", hovermode="y unified")
    fig.update_yaxes(type="category")
    _money_axis(fig, cur, axis="x")
    return _style(fig, f"Vendor spend by vendor {cur.label}", height=max(260, 26 * len(data) + 110))


def _group_lines(df: pd.DataFrame, group: str, col: str, hover: Any) -> go.Figure:
    fig = go.Figure()
    for i, (name, part) in enumerate(df.groupby(group, sort=True)):
        label = family_label(name)
        fig.add_scatter(
            x=months(part["month"]),
            y=floats(part[col]),
            name=label,
            mode="lines+markers",
            line={"color": FAMILY_COLORS[i % len(FAMILY_COLORS)], "width": 2.2},
            connectgaps=False,
            hovertemplate=hover(label),
        )
    _month_axis(fig)
    return fig


def money_lines(df: pd.DataFrame, group: str, col: str, title: str, cur: Currency) -> go.Figure:
    """An amount per month, one line per `group` value."""
    fig = _group_lines(df, group, col, lambda label: money_hover(cur, label))
    _money_axis(fig, cur)
    return _style(fig, f"{title} {cur.label}")


def rate_by_group(df: pd.DataFrame, group: str, col: str, title: str) -> go.Figure:
    """A fraction per month as %, one line per `group` value (gaps where it is NULL)."""
    fig = _group_lines(df, group, col, lambda label: f"{label} %{{y:.1%}}<extra></extra>")
    fig.update_yaxes(tickformat=".0%")
    return _style(fig, title)


def vendor_spend_months(df: pd.DataFrame, cur: Currency) -> go.Figure:
    """Vendor spend per month stacked by cost type, with the part lacking an approved PO."""
    fig = go.Figure()
    for i, (cost_type, part) in enumerate(df.groupby("cost_type", sort=True)):
        fig.add_bar(
            x=months(part["month"]),
            y=floats(part["amount_usd"]),
            name=str(cost_type).upper() if cost_type == "cogs" else str(cost_type).capitalize(),
            marker_color=[NAVY, GREY][i % 2],
            hovertemplate=money_hover(cur, str(cost_type)),
        )
    no_po = df.groupby("month", as_index=False)["amount_without_approved_po_usd"].sum()
    fig.add_scatter(
        x=months(no_po["month"]),
        y=floats(no_po["amount_without_approved_po_usd"]),
        name="Without approved PO",
        mode="lines+markers",
        line={"color": RED, "width": 2},
        hovertemplate=money_hover(cur, "Without approved PO"),
    )
    fig.update_layout(barmode="stack", bargap=0.25)
    _money_axis(fig, cur)
    _month_axis(fig)
    return _style(fig, f"Vendor spend by month {cur.label}")


# --- revenue and customers: selectable charts (drill-down) --------------------------------------


def arr_breakdown(df: pd.DataFrame, label: str, cur: Currency) -> go.Figure:
    """ARR per month stacked by a breakdown's values (segment, region or product family); each
    bar carries [month, value] as customdata so a click names the accounts behind it."""
    data = df.assign(arr=floats(df["arr_usd"]).values, x=months(df["month"]).values)
    order = data.groupby("breakdown")["arr"].sum().sort_values(ascending=False).index
    fig = go.Figure()
    for i, value in enumerate(order):
        part = data[data["breakdown"] == value]
        name = str(value)
        fig.add_bar(
            x=part["x"],
            y=part["arr"],
            name=name,
            marker_color=FAMILY_COLORS[i % len(FAMILY_COLORS)],
            customdata=[[f"{fmt.as_date(m):%Y-%m-%d}", value] for m in part["month"]],
            hovertemplate=f"{name} %{{x|%b %Y}}: {cur.prefix}%{{y:,.0f}}<extra></extra>",
        )
    fig.update_layout(barmode="relative", bargap=0.25)
    _money_axis(fig, cur)
    _month_axis(fig)
    _style(fig, f"ARR by {label} {cur.label}", height=380)
    fig.update_layout(hovermode="closest", clickmode="event+select")
    return fig


def revenue_billings(df: pd.DataFrame, billings: str, cur: Currency) -> go.Figure:
    """Recognized revenue and billings (named `billings`) per month as bars, with the closing
    deferred revenue as a line, all from kpi_monthly."""
    x = months(df["month"])
    fig = go.Figure()
    _money_bar(fig, x, df["revenue_usd"], labels.REVENUE, NAVY, cur)
    _money_bar(fig, x, df["billings_usd"], billings, BLUE, cur)
    fig.add_scatter(
        x=x,
        y=floats(df["deferred_revenue_usd"]),
        name="Deferred revenue (closing)",
        mode="lines+markers",
        line={"color": ORANGE, "width": 2.2},
        hovertemplate=money_hover(cur, "Deferred revenue"),
    )
    fig.update_layout(barmode="group", bargap=0.25)
    _money_axis(fig, cur)
    _month_axis(fig)
    return _style(fig, f"{labels.REVENUE} vs billings {cur.label}", height=380)


def cohort_cells(df: pd.DataFrame, label: str, diverging: bool = False) -> go.Figure:
    """`cohort_heatmap` with a clickable cell layer: Plotly heatmaps report no selection, so an
    invisible marker sits on every cell, carrying [cohort_month, month] as customdata. With
    `diverging` (gross margin %, which may be far below 0) the colours run red → white → navy
    over −100 %…100 % (hover and cell text show the true value)."""
    fig = cohort_heatmap(df, label)
    if diverging:
        fig.update_traces(
            zmin=-1,
            zmax=1,
            zmid=0,
            colorscale=[[0, RED], [0.5, "#F4F4F4"], [1, NAVY]],
            selector={"type": "heatmap"},
        )
    cells = df.dropna(subset=["value"])
    fig.add_scatter(
        x=[str(c) for c in cells["months_since_start"]],
        y=[fmt.month_label(m, short=True) for m in cells["cohort_month"]],
        mode="markers",
        marker={"size": 22, "symbol": "square", "opacity": 0, "color": NAVY},
        selected={"marker": {"opacity": 0.35}},
        unselected={"marker": {"opacity": 0}},
        customdata=[
            [f"{fmt.as_date(c):%Y-%m-%d}", f"{fmt.as_date(m):%Y-%m-%d}"]
            for c, m in zip(cells["cohort_month"], cells["month"], strict=True)
        ],
        text=[fmt.pct(v, 1) for v in cells["value"]],
        hovertemplate="Cohort %{y}, month %{x}: %{text}<br>click for its accounts<extra></extra>",
        showlegend=False,
    )
    fig.update_traces(hoverinfo="skip", hovertemplate=None, selector={"type": "heatmap"})
    fig.update_xaxes(showspikes=False)
    fig.update_yaxes(showspikes=False)
    fig.update_layout(clickmode="event+select", dragmode=False)
    return fig


# --- risk & anomalies ----------------------------------------------------------------------------


def cause_months(df: pd.DataFrame) -> go.Figure:
    """Exceptions per month stacked by probable cause (exception_causes_monthly of one queue);
    click a month for its rows."""
    colors = (RED, ORANGE, BLUE, TEAL, PURPLE, NAVY, GREEN, GREY)
    fig = go.Figure()
    for k, (cause, part) in enumerate(df.groupby("probable_cause", sort=True)):
        fig.add_bar(
            x=months(part["month"]),
            y=floats(part["exceptions"]),
            name=str(cause),
            marker_color=colors[k % len(colors)],
            hovertemplate=f"{cause}: %{{y:,}}<extra></extra>",
        )
    fig.update_layout(barmode="stack")
    _month_axis(fig)
    return _style(fig, "Exceptions by probable cause and month", height=340)
