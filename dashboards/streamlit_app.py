"""subops dashboards — entry point: `streamlit run dashboards/streamlit_app.py`.

Until a warehouse is published it shows one screen saying how to build one; afterwards it
navigates over the pages in `app_pages/`, each a thin layout over `lib/queries` and `lib/charts`.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb
import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboards/ first, not the project root
    sys.path.insert(0, str(ROOT))

from dashboards.lib import sidebar, ui  # noqa: E402
from dashboards.lib.cache import locate  # noqa: E402

st.set_page_config(layout="wide", page_title="subops", page_icon=":material/monitoring:")
ui.style()

#: Pages by section (st.navigation shows the sections in the sidebar).
PAGES = {
    "Finance": [
        st.Page(
            "app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True
        ),
        st.Page("app_pages/revenue.py", title="Revenue", icon=":material/payments:"),
        st.Page("app_pages/margins.py", title="Margins", icon=":material/percent:"),
        st.Page("app_pages/cash.py", title="Cash", icon=":material/account_balance:"),
    ],
    "Customers": [
        st.Page("app_pages/customers.py", title="Customers & retention", icon=":material/groups:"),
        st.Page(
            "app_pages/account_360.py",
            title="Account 360",
            icon=":material/person_search:",
            url_path="account",
        ),
    ],
    "Operations": [
        st.Page("app_pages/operations.py", title="Operations", icon=":material/support_agent:"),
    ],
    "Data": [
        st.Page("app_pages/data_quality.py", title="Data quality", icon=":material/fact_check:"),
    ],
}

warehouse = locate()
if warehouse is None:
    ui.no_warehouse_screen()
else:
    page = st.navigation(PAGES)
    try:
        sidebar.render(warehouse)
    except duckdb.Error as err:  # an unreadable file: the page itself says why
        st.sidebar.caption(f"Filters unavailable: {type(err).__name__}")
    with st.sidebar:
        published = dt.datetime.fromtimestamp(warehouse.mtime_ns / 1e9, tz=dt.UTC)
        st.caption(
            f"Read-only view of `{warehouse.resolved.name}`, published "
            f"{published:%d %b %Y %H:%M} UTC."
        )
    page.run()
