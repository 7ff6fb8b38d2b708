"""Drill-down plumbing the pages share: what a chart or table selection picked, a table whose
selected row opens its account in Account 360, and the words a tile's delta is described with.
No SQL and no metric here.

`account_link` is the one place that links to Account 360: while that page is not part of the
navigation (an older app, or a test that registers fewer pages) it shows the account as text
instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboards.lib import fmt, ui
from dashboards.lib.filters import Filters
from dashboards.lib.fmt import Currency

#: The Account 360 page, relative to the entry script; it reads `?account=<id>`.
ACCOUNT_360 = "app_pages/account_360.py"


def _selection(event: Any) -> Mapping[str, Any]:
    """The `selection` of a chart or table event (an attribute dict in the app, a plain dict
    when a test sets the state), {} without one."""
    if event is None:
        return {}
    try:
        return event["selection"] or {}
    except (KeyError, TypeError):
        return {}


def selected_rows(event: Any) -> list[int]:
    """Positions of the rows selected in an `st.dataframe(on_select="rerun")`."""
    return [int(r) for r in _selection(event).get("rows", [])]


def selected_points(event: Any) -> list[Mapping[str, Any]]:
    """Points selected (clicked, boxed or lassoed) in an `st.plotly_chart(on_select="rerun")`."""
    return list(_selection(event).get("points", []))


def selected_month(event: Any) -> dt.date | None:
    """The month (first day) of the first selected point of a chart with a month x-axis."""
    for point in selected_points(event):
        value = point.get("x")
        try:
            day = fmt.as_date(str(value)[:10]) if value is not None else None
        except (ValueError, TypeError):
            day = None
        if day is not None:
            return day.replace(day=1)
    return None


def picked_row(event: Any, df: pd.DataFrame) -> pd.Series | None:
    """The table row a single-row selection points at (None without one, or out of range)."""
    rows = [r for r in selected_rows(event) if 0 <= r < len(df)]
    return df.iloc[rows[0]] if rows else None


def picked_point(event: Any) -> tuple[dt.date, str] | None:
    """(date, key) from the first selected point's customdata `[ISO date, key]` — the pair the
    selectable bars and heatmap cells carry; None without a selection."""
    for point in selected_points(event):
        data = point.get("customdata") if isinstance(point, Mapping) else None
        if isinstance(data, list | tuple) and len(data) == 2:
            try:
                day = fmt.as_date(str(data[0])[:10])
            except (ValueError, TypeError):
                day = None
            return (day, str(data[1])) if day else None
    return None


def selected_label(event: Any, axis: str = "x") -> str | None:
    """The category (`x`, or `y` for horizontal bars) of the first selected point."""
    for point in selected_points(event):
        value = point.get(axis)
        if value is not None:
            return str(value)
    return None


def follow_click(widget_key: str, value: Any, options: Sequence[Any]) -> None:
    """Call before drawing the widget `widget_key`: a chart click (`value`, None without one)
    sets it, once per click, so the widget can still be changed by hand while the chart keeps
    its selection; a value the widget no longer offers (the period changed) is reset to its
    first option."""
    seen = f"_clicked_{widget_key}"
    if value is None or value not in options:
        st.session_state.pop(seen, None)
    elif st.session_state.get(seen) != value:
        st.session_state[widget_key] = value
        st.session_state[seen] = value
    if widget_key in st.session_state and st.session_state[widget_key] not in options:
        st.session_state[widget_key] = options[0]


def account_link(account_id: Any, name: Any = None) -> None:
    """A link opening the account in Account 360; the account as text while that page is not
    in the navigation."""
    if fmt.is_missing(account_id):
        return
    label = str(name) if not fmt.is_missing(name) else str(account_id)
    try:
        st.page_link(
            ACCOUNT_360,
            label=f"Open {label} in Account 360",
            icon=":material/person_search:",
            query_params={"account": str(account_id)},
        )
    except StreamlitAPIException:
        st.caption(f"Selected account: {label} (`{account_id}`)")


def select_table(
    df: pd.DataFrame,
    cur: Currency,
    *,
    key: str,
    money: Sequence[str] = (),
    percent: Sequence[str] = (),
    hide: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    height: int | str = "auto",
) -> pd.Series | None:
    """`ui.table` whose rows can be selected (one at a time); returns the selected row."""
    cfg = ui.money_config(df, cur, money, labels)
    for c in percent:
        if c in df:
            cfg[c] = st.column_config.NumberColumn(ui.heading(c, cur), format="percent")
    event = st.dataframe(
        df,
        width="stretch",
        hide_index=True,
        column_config=cfg,
        column_order=[c for c in df.columns if c not in set(hide)],
        height=height,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
    )
    return picked_row(event, df)


def account_table(df: pd.DataFrame, cur: Currency, *, key: str, **kw: Any) -> pd.Series | None:
    """A table of rows that each belong to an account (`account_id`, `account_name`): selecting
    one offers its account in Account 360. Returns the selected row."""
    row = select_table(df, cur, key=key, **kw)
    if row is None:
        st.caption("Select a row to open its account in Account 360.")
    else:
        account_link(row.get("account_id"), row.get("account_name"))
    return row


def compared_with(f: Filters) -> str:
    """How a tile's delta is described: `vs Sep 2026 (MoM)`."""
    if f.end is None:
        return f"vs {f.comparison_label}"
    return f"vs {fmt.month_label(f.compare_to(f.end), short=True)} ({f.comparison_label})"
