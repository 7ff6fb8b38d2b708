"""The global filters' sidebar: widgets seeded from the URL on a session's first run, held in
session state across pages, and written back to `st.query_params` on every run so the address
bar always holds a shareable view. The rules themselves are in `filters` (no Streamlit)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboards.lib import filters, fmt, ui
from dashboards.lib.cache import Warehouse, query
from dashboards.lib.filters import Filters, Options

ALL = "All"
STATE = "subops_filters"
SEEDED = "subops_filters_seeded"
KEYS = {
    "period": "f_period",
    "range": "f_range",
    "cmp": "f_cmp",
    "segment": "f_segment",
    "region": "f_region",
    "family": "f_family",
}


def options(wh: Warehouse) -> Options:
    """The allow-lists of this build: full months up to the as-of date, and the dimensions."""
    df = query(wh, "filter_options")
    by_kind: dict[str, list[str]] = {}
    for kind, value in zip(df["kind"], df["value"], strict=True):
        by_kind.setdefault(kind, []).append(value)
    months = sorted(dt.date.fromisoformat(m) for m in by_kind.get("month", []))
    as_of = ui.as_of(ui.build(wh))
    if as_of is not None:
        months = [m for m in months if fmt.month_end(m) <= as_of] or months
    return Options(
        tuple(months),
        tuple(by_kind.get("segment", [])),
        tuple(by_kind.get("region", [])),
        tuple(by_kind.get("product_family", [])),
    )


def _seed(opts: Options) -> None:
    """First run of a session: put the URL's filters into the widgets' state."""
    parsed = filters.parse(st.query_params.to_dict(), opts)
    f = parsed.filters
    st.session_state[KEYS["period"]] = f.preset
    if f.start and f.end:
        st.session_state[KEYS["range"]] = (f.start, f.end)
    st.session_state[KEYS["cmp"]] = f.comparison
    for key, attr in filters.DIMENSIONS.items():
        st.session_state[KEYS[key]] = getattr(f, attr) or ALL
    st.session_state[SEEDED] = parsed.ignored


def render(wh: Warehouse) -> Filters:
    """Draw the filters in the sidebar; returns them and keeps them in session state."""
    opts = options(wh)
    if SEEDED not in st.session_state:
        _seed(opts)
    with st.sidebar:
        st.markdown("**Filters**")
        preset = st.selectbox(
            "Period", list(filters.PRESETS), format_func=filters.PRESETS.get, key=KEYS["period"]
        )
        start, end = filters.preset_range(preset, opts.months) or (None, None)
        if preset == "custom" and len(opts.months) > 1:
            if KEYS["range"] not in st.session_state:
                st.session_state[KEYS["range"]] = (start, end)
            start, end = st.select_slider(
                "Months",
                options=list(opts.months),
                format_func=lambda m: f"{m:%b %Y}",
                key=KEYS["range"],
            )
        cmp = st.segmented_control(
            "Compare with",
            list(filters.COMPARISONS),
            format_func=lambda c: filters.COMPARISONS[c][1],
            key=KEYS["cmp"],
            help="The period the tiles' deltas compare with: 1, 3 or 12 months earlier.",
        )
        dims: dict[str, str | None] = {}
        for key, attr, label, allowed in (
            ("segment", "segment", "Segment", opts.segments),
            ("region", "region", "Region", opts.regions),
            ("family", "product_family", "Product family", opts.product_families),
        ):
            if st.session_state.get(KEYS[key]) not in (ALL, *allowed):
                st.session_state[KEYS[key]] = ALL
            choice = st.selectbox(label, [ALL, *allowed], key=KEYS[key])
            dims[attr] = None if choice == ALL else choice
        ignored = st.session_state.get(SEEDED) or ()
        if ignored:
            st.warning(
                "Some link parameters were ignored: " + "; ".join(ignored) + ".",
                icon=":material/link_off:",
            )
    current = Filters(
        preset,
        start,
        end,
        cmp or filters.DEFAULT_COMPARISON,
        **dims,  # type: ignore[arg-type]
    )
    st.session_state[STATE] = current
    _sync_url(current)
    return current


def _sync_url(current: Filters) -> None:
    """Make the address bar hold exactly these filters (other parameters are left alone)."""
    wanted = filters.to_params(current)
    for key in filters.PARAM_KEYS:
        if key in st.query_params and key not in wanted:
            del st.query_params[key]
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def current() -> Filters:
    """The filters the sidebar set on this run (defaults when it has not run)."""
    value = st.session_state.get(STATE)
    return value if isinstance(value, Filters) else Filters()
