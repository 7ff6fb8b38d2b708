"""The thin Streamlit caching layer over `queries`.

Results are cached per (query, warehouse file's resolved path, its mtime, arguments): publishing
a new build (an atomic rename or a re-pointed symlink) changes the key, so the next rerun reads
the new file while nothing is re-read between reruns of one build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.lib import (
    queries,
    queries_account,
    queries_cash,
    queries_margins,
    queries_ops,
    queries_revenue,
    queries_risk,
)
from dashboards.lib.served import ServedMarts, ServedParquet
from pipelines.settings import get_settings


@dataclass(frozen=True)
class Warehouse:
    """The published warehouse file as this rerun sees it; `served`: read the marts from a
    server target instead (SUBOPS_DASHBOARD_TARGET=postgres|spark; the file still holds the audit
    trail, and its mtime still versions the cache: a server build publishes it last)."""

    configured: Path
    resolved: Path
    mtime_ns: int
    served: ServedMarts | ServedParquet | None = None


def locate() -> Warehouse | None:
    """The published warehouse, or None when nothing has been published at the configured path."""
    settings = get_settings()
    configured = settings.current_warehouse
    try:
        resolved = configured.resolve(strict=True)
        mtime_ns = resolved.stat().st_mtime_ns
    except (FileNotFoundError, OSError):
        return None
    served: ServedMarts | ServedParquet | None = None
    if settings.dashboard_target == "postgres":
        served = ServedMarts.from_settings(settings, resolved)
    elif settings.dashboard_target == "spark":
        served = ServedParquet.from_settings(settings, resolved)
    return Warehouse(configured, resolved, mtime_ns, served)


#: Every query a page may run, by name: the shared module's and the per-page modules'.
REGISTRY = {
    **queries.QUERIES,
    **queries_cash.QUERIES,
    **queries_margins.QUERIES,
    **queries_ops.QUERIES,
    **queries_risk.QUERIES,
    **queries_revenue.QUERIES,
    **queries_account.QUERIES,
}


@st.cache_data(show_spinner=False, max_entries=512, ttl=6 * 3600)
def _run(
    name: str, source: str | ServedMarts | ServedParquet, mtime_ns: int, args: tuple[Any, ...]
) -> pd.DataFrame:
    del mtime_ns  # part of the cache key only
    served = isinstance(source, ServedMarts | ServedParquet)
    return REGISTRY[name](source if served else Path(source), *args)


def query(wh: Warehouse, name: str, *args: Any) -> pd.DataFrame:
    """Run the named query of `REGISTRY` on this build, cached."""
    if name not in REGISTRY:
        raise queries.NotAllowedError(f"unknown query {name!r}")
    source = wh.served or str(wh.resolved)
    return _run(name, source, wh.mtime_ns, tuple(args))


def built_tables(wh: Warehouse) -> set[tuple[str, str]]:
    """(schema, table) pairs present in this build."""
    df = query(wh, "existing_tables")
    return set(zip(df["table_schema"], df["table_name"], strict=True))
