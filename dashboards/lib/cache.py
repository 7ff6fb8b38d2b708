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
from pipelines.settings import get_settings


@dataclass(frozen=True)
class Warehouse:
    """The published warehouse file as this rerun sees it."""

    configured: Path
    resolved: Path
    mtime_ns: int


def locate() -> Warehouse | None:
    """The published warehouse, or None when nothing has been published at the configured path."""
    configured = get_settings().current_warehouse
    try:
        resolved = configured.resolve(strict=True)
        return Warehouse(configured, resolved, resolved.stat().st_mtime_ns)
    except (FileNotFoundError, OSError):
        return None


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
def _run(name: str, path: str, mtime_ns: int, args: tuple[Any, ...]) -> pd.DataFrame:
    del mtime_ns  # part of the cache key only
    return REGISTRY[name](Path(path), *args)


def query(wh: Warehouse, name: str, *args: Any) -> pd.DataFrame:
    """Run the named query of `REGISTRY` on this build, cached."""
    if name not in REGISTRY:
        raise queries.NotAllowedError(f"unknown query {name!r}")
    return _run(name, str(wh.resolved), wh.mtime_ns, tuple(args))


def built_tables(wh: Warehouse) -> set[tuple[str, str]]:
    """(schema, table) pairs present in this build."""
    df = query(wh, "existing_tables")
    return set(zip(df["table_schema"], df["table_name"], strict=True))
