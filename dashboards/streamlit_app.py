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

from dashboards.lib import access, sidebar, ui  # noqa: E402
from dashboards.lib.cache import locate  # noqa: E402
from dashboards.lib.pages import PAGE_SPECS  # noqa: E402

st.set_page_config(layout="wide", page_title="subops", page_icon=":material/monitoring:")
ui.style()


def pages(allowed: frozenset[str] | None) -> dict[str, list[st.Page]]:
    """The navigation by section, limited to `allowed` page ids (None: every page); the first
    page shown is the default."""
    out: dict[str, list[st.Page]] = {}
    ids = [i for i in PAGE_SPECS if allowed is None or i in allowed]
    for pid in ids:
        section, spec = PAGE_SPECS[pid]
        out.setdefault(section, []).append(st.Page(**spec, url_path=pid, default=pid == ids[0]))
    return out


warehouse = locate()
allowed = access.allowed_pages()
if warehouse is None:
    ui.no_warehouse_screen()
else:
    page = st.navigation(pages(allowed))
    try:
        sidebar.render(warehouse)
    except Exception as err:  # an unreadable file or server: the page itself says why
        if not isinstance(err, duckdb.Error) and warehouse.served is None:
            raise
        st.sidebar.caption(f"Filters unavailable: {type(err).__name__}")
    with st.sidebar:
        published = dt.datetime.fromtimestamp(warehouse.mtime_ns / 1e9, tz=dt.UTC)
        st.caption(
            f"Read-only view of `{warehouse.resolved.name}`, published "
            f"{published:%d %b %Y %H:%M} UTC."
            + (f" Marts served by {warehouse.served.describe()}." if warehouse.served else "")
        )
    page.run()
