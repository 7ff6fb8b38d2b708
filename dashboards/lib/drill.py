"""Drill-down pieces the Revenue and Customers pages share: reading an `on_select` event (chart
points or table rows) and offering the selected account in Account 360.

Events are read by item (`event["selection"]["points"]`), so a selection set through session
state — as AppTest does — reads the same as one from the browser.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import fmt

#: The Account 360 page (st.navigation path, relative to the entry point).
ACCOUNT_360 = "app_pages/account_360.py"
PAGES = Path(__file__).resolve().parents[1] / "app_pages"


def selection(event: Any, kind: str) -> list[Any]:
    """The selected `points` (charts) or `rows` (tables) of an `on_select` event; [] without."""
    try:
        return list(event["selection"][kind])
    except (KeyError, TypeError, AttributeError):
        return []


def picked_row(event: Any, df: pd.DataFrame) -> pd.Series | None:
    """The table row a single-row selection points at (None without one, or if out of range)."""
    rows = [r for r in selection(event, "rows") if isinstance(r, int) and 0 <= r < len(df)]
    return df.iloc[rows[0]] if rows else None


def picked_point(event: Any) -> tuple[dt.date, str] | None:
    """(date, key) from the first selected point's customdata `[ISO date, key]` — the pair the
    selectable charts attach to each bar or cell; None without a selection."""
    for point in selection(event, "points"):
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, list | tuple) and len(data) == 2:
            day = _date(data[0])
            return (day, str(data[1])) if day else None
    return None


def _date(value: Any) -> dt.date | None:
    try:
        return fmt.as_date(str(value)[:10])
    except ValueError:
        return None


def open_account(account_id: str, name: Any, key: str) -> None:
    """Name the selected account and, when this app has the Account 360 page, offer a button
    that opens it there (the account in the URL, so the view can be shared)."""
    label = account_id if fmt.is_missing(name) else f"{name} ({account_id})"
    st.markdown(f"**Selected account:** {label}")
    if not (PAGES / Path(ACCOUNT_360).name).exists():
        return
    if st.button("Open in Account 360", key=key, icon=":material/person_search:"):
        st.switch_page(ACCOUNT_360, query_params={"account": account_id})
