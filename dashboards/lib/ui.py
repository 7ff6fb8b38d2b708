"""Streamlit pieces every page shares: the no-warehouse screen, "not built yet" notes, the build
caption, the reporting currency, KPI tiles and money tables. Kept here so the pages stay a few
lines of layout."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboards.lib import fmt
from dashboards.lib.cache import Warehouse, built_tables, locate, query
from dashboards.lib.fmt import Currency
from pipelines.settings import get_settings
from pipelines.warehouse.readonly import WarehouseNotFoundError

#: A delta that is zero whatever its unit: `+$0`, `€0`, `CHF 0`, `0.0 pp`, `+0.0 d`.
FLAT_DELTA = re.compile(r"[+-]?\D*?0(\.0+)?\D*")
CSS = """
<style>
div.block-container {padding-top: 2.2rem; padding-bottom: 2rem;}
div[data-testid="stMetric"] {background: rgba(27,54,93,0.035);}
div[data-testid="stMetricValue"] {font-size: 1.9rem; font-weight: 600;}
div[data-testid="stCaptionContainer"] p {margin-bottom: 0.1rem;}
</style>
"""


def style() -> None:
    """A little spacing and tile polish on top of the theme in dashboards/.streamlit/."""
    st.html(CSS)


def no_warehouse_screen() -> None:
    """The one friendly screen shown until a warehouse is published."""
    target = get_settings().current_warehouse
    st.title("subops")
    st.subheader("No warehouse has been published yet")
    st.write(
        "The dashboards read the published warehouse file, and there is none at "
        f"`{target}`. Build one, then reload this page:"
    )
    st.code(
        "make demo        # synthetic company → build → publish\nsubops build     "
        "# build and publish from the extracts in the landing folder",
        language="bash",
    )
    st.caption(
        "The location comes from `SUBOPS_WAREHOUSE_DIR` (default `data/warehouse`); the "
        "dashboards open `current.duckdb` inside it, read-only."
    )


def unreadable_screen(err: Exception) -> None:
    """Shown when the file exists but cannot be opened (e.g. a build still holds it)."""
    st.title("subops")
    st.subheader("The warehouse could not be opened")
    st.write(
        f"`{get_settings().current_warehouse}` exists but DuckDB refused it read-only. A build "
        "writing to this very file, or a file from an older DuckDB, are the usual causes. "
        "Publish a build (`subops build`) and reload."
    )
    st.caption(f"{type(err).__name__}: {err}")


def require_warehouse() -> Warehouse:
    """The published warehouse; otherwise show the friendly screen and stop this rerun."""
    wh = locate()
    if wh is None:
        no_warehouse_screen()
        st.stop()
    return wh


def guarded(page: Callable[[Warehouse], None]) -> None:
    """Run a page body; a missing or unreadable warehouse becomes a screen, not a traceback."""
    wh = require_warehouse()
    try:
        page(wh)
    except WarehouseNotFoundError:
        no_warehouse_screen()
    except duckdb.IOException as err:
        unreadable_screen(err)
    except duckdb.Error as err:  # a mart whose shape changed: say which, keep the page up
        st.error(
            "A query on this warehouse failed — the marts may have changed shape. "
            f"{type(err).__name__}: {err}",
            icon=":material/error:",
        )
    except Exception as err:  # the served marts' server (SUBOPS_DASHBOARD_TARGET) refused
        if wh.served is None or not (
            isinstance(err, RuntimeError) or type(err).__module__.startswith("psycopg")
        ):
            raise
        st.error(
            f"A query on the marts served by {wh.served.describe()} failed. "
            f"{type(err).__name__}: {err}",
            icon=":material/error:",
        )


def has(wh: Warehouse, table: str, schema: str = "marts") -> bool:
    """Whether this build has `schema.table`."""
    return (schema, table) in built_tables(wh)


def not_built(table: str, what: str, schema: str = "marts") -> None:
    """The note shown where a section's table does not exist in this build."""
    st.info(
        f"**{what}** — `{schema}.{table}` is not built yet in this warehouse. "
        "It appears here once a build publishes it.",
        icon=":material/construction:",
    )


def build(wh: Warehouse) -> dict[str, Any]:
    """The run that made this file (audit.build_info + its audit.runs row), {} without one."""
    if not has(wh, "build_info", "audit"):
        return {}
    df = query(wh, "build_info")
    return {} if df.empty else df.iloc[0].to_dict()


def currency(wh: Warehouse) -> Currency:
    """The reporting currency of this build: what every `_usd` amount on the page is in."""
    return fmt.currency(build(wh).get("reporting_currency"))


def build_caption(wh: Warehouse) -> dict[str, Any]:
    """Caption with the as-of date, build time, run, version and currency of this build;
    returns the build's row."""
    run = build(wh)
    parts = []
    as_of = fmt.as_date(run.get("as_of_date"))
    if as_of:
        parts.append(f"Data as of **{as_of:%d %b %Y}**")
    built = run.get("finished_at")
    if fmt.is_missing(built):
        built = run.get("started_at")
    if not fmt.is_missing(built):
        parts.append(f"built {pd.Timestamp(built):%d %b %Y %H:%M} UTC")
    if run.get("run_id"):
        parts.append(f"run `{run['run_id']}`")
    version = run.get("warehouse_version")
    if not fmt.is_missing(version):
        parts.append(f"warehouse v{int(version)}")
    code = fmt.currency(run.get("reporting_currency")).code
    if code:
        parts.append(f"amounts in {code}")
    st.caption(" · ".join(parts) if parts else "Build details unavailable (no `audit.build_info`).")
    return run


def tile(
    label: str,
    value: str,
    delta: str | None = None,
    *,
    inverse: bool = False,
    help: str | None = None,
    spark: Sequence[Any] | None = None,
    delta_description: str | None = None,
) -> None:
    """One KPI tile with a delta (vs the prior month unless `delta_description` names the
    comparison) and an optional sparkline."""
    chart = [float(v) for v in spark if not fmt.is_missing(v)] if spark is not None else None
    flat = delta is not None and FLAT_DELTA.fullmatch(delta) is not None
    st.metric(
        label,
        value,
        delta,
        delta_color="off" if flat else "inverse" if inverse else "normal",
        delta_arrow="off" if flat else "auto",
        help=help,
        border=True,
        chart_data=chart if chart and len(chart) > 1 else None,
        chart_type="area",
        delta_description=(delta_description or "vs prior month") if delta else None,
    )


@dataclass(frozen=True)
class Tile:
    """The arguments of one `tile`, so a row of tiles is data (`tiles`), not repeated blocks."""

    label: str
    value: str
    delta: str | None = None
    inverse: bool = False
    help: str | None = None
    spark: Sequence[Any] | None = None
    delta_description: str | None = None


def tiles(items: Sequence[Tile | None], columns: int | None = None) -> None:
    """`items` as tiles, `columns` to a row (default: all in one row); None leaves its place
    empty, so a tile that does not apply keeps the others where readers expect them."""
    per_row = columns or len(items)
    for start in range(0, len(items), per_row):
        row = items[start : start + per_row]
        for box, item in zip(st.columns(per_row), row, strict=False):
            if item is not None:
                with box:
                    tile(**asdict(item))


def heading(column: str, cur: Currency) -> str:
    """`current_mrr_usd` → `Current MRR (EUR)`: readable headers; `_usd` columns name the
    reporting currency they hold."""
    base = column.removesuffix("_usd").replace("_", " ")
    for word in ("mrr", "arr", "nrr", "grr", "dso", "id", "sla"):
        base = " ".join(w.upper() if w == word else w for w in base.split())
    return base[:1].upper() + base[1:] + (f" {cur.label}" if column.endswith("_usd") else "")


def _is_dates(col: pd.Series) -> bool:
    sample = col.dropna()
    return not sample.empty and isinstance(sample.iloc[0], dt.date)


def money_config(
    df: pd.DataFrame,
    cur: Currency,
    extra: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """column_config for a table: readable headers (or `labels`), `_usd` columns in the
    reporting currency, `extra` (amounts in their own currency, quantities) 2-dp."""

    def head(c: str) -> str:
        text = (labels or {}).get(c)
        if text is None:
            return heading(c, cur)
        return f"{text} {cur.label}" if c.endswith("_usd") else text

    cfg: dict[str, Any] = {c: head(str(c)) for c in df.columns}
    for c in df.columns:
        if (str(c) == "month" or str(c).endswith("_month")) and _is_dates(df[c]):
            cfg[c] = st.column_config.DateColumn(head(str(c)), format="MMM YYYY")
    for c in fmt.money_columns(df):
        cfg[c] = st.column_config.NumberColumn(head(c), format=cur.column_format)
    for c in extra:
        if c in df:
            cfg[c] = st.column_config.NumberColumn(head(c), format="%,.2f")
    return cfg


def table(
    df: pd.DataFrame,
    cur: Currency,
    *,
    money: Sequence[str] = (),
    percent: Sequence[str] = (),
    hide: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    height: int | str = "auto",
    key: str | None = None,
) -> None:
    """A full-width table: readable headers, money and percent formatted, `hide` left out."""
    cfg = money_config(df, cur, money, labels)
    for c in percent:
        if c in df:
            cfg[c] = st.column_config.NumberColumn(heading(c, cur), format="percent")
    order = [c for c in df.columns if c not in set(hide)]
    st.dataframe(
        df,
        width="stretch",
        hide_index=True,
        column_config=cfg,
        column_order=order,
        height=height,
        key=key,
    )


def as_of(run: dict[str, Any]) -> Any:
    """The build's as-of date (for picking the latest full month)."""
    return fmt.as_date(run.get("as_of_date"))


def as_of_month(run: dict[str, Any]) -> Any:
    """First day of the as-of date's month: the last month any chart shows."""
    day = as_of(run)
    return None if day is None else day.replace(day=1)


def row_for(df: pd.DataFrame, month: Any, col: str = "month") -> pd.Series | None:
    """The row of `df` for `month`, None when absent."""
    hit = df[df[col].map(fmt.as_date) == fmt.as_date(month)]
    return None if hit.empty else hit.iloc[0]


def prior_row(df: pd.DataFrame, month: Any, col: str = "month") -> pd.Series | None:
    """The row just before `month` in a month-sorted frame."""
    earlier = df[df[col].map(fmt.as_date) < fmt.as_date(month)]
    return None if earlier.empty else earlier.iloc[-1]
