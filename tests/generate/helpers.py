"""Reading a generated landing folder back for assertions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.contract import TABLES, Table
from pipelines.generate.validate import read_rows

START, END, DAILY = dt.date(2024, 1, 1), dt.date(2025, 6, 30), 3
SMALL = dict(scale=0.05, seed=7, start=START, end=END, daily=DAILY)


def table_files(root: Path, t: Table) -> list[Path]:
    """Regular extract files of a table (the `T120000Z` whole-file faults excluded)."""
    return sorted(p for p in (root / t.source / t.name).glob("*.*") if "T" not in p.stem)


def latest(root: Path, t: Table, upto: str | None = None) -> dict[tuple, dict]:
    """Rows of a table after applying its load mode over all regular extracts (<= upto)."""
    rows: dict[tuple, dict] = {}
    for p in table_files(root, t):
        if upto and p.stem > upto:
            continue
        _, recs = read_rows(p)
        if t.load_mode == "snapshot":
            rows = {}
        for r in recs:
            k = tuple(r[c] for c in t.key)
            if t.version and k in rows and rows[k][t.version] > r[t.version]:
                continue
            rows[k] = r
    return rows


def all_tables(root: Path, upto: str | None = None) -> dict[str, list[dict]]:
    return {t.qualified_name: list(latest(root, t, upto).values()) for t in TABLES}
