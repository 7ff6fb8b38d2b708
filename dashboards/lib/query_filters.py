"""SQL fragments for the global filters, with their bound parameters (no Streamlit).

Every fragment is fixed text with `?` placeholders: the filter values themselves (months,
segment, region) only ever travel as parameters, and None means "no filter" inside the SQL
(`? IS NULL OR …`), so one statement serves every combination.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def period(column: str, start: dt.date | None, end: dt.date | None) -> tuple[str, list[Any]]:
    """`column` within [start, end] (months' first days, inclusive); None leaves a side open.
    `column` is a fixed name written by the calling query, never a user value."""
    return (
        f"(?::DATE IS NULL OR {column} >= ?) AND (?::DATE IS NULL OR {column} <= ?)",
        [start, start, end, end],
    )


def month_start(column: str) -> str:
    """The first day of the month of a date or (UTC) timestamp column, as the marts' months are
    made (`month_start` in the dbt project). `column` is a fixed name, never a user value."""
    return f"CAST(date_trunc('month', {column}) AS DATE)"


#: The dimension columns a filter may name.
DIMENSIONS = frozenset({"segment", "region", "product_family"})


def dims(alias: str, **values: str | None) -> tuple[str, list[Any]]:
    """`(? IS NULL OR alias.col = ?)` per dimension given (segment, region, product_family; the
    names are checked here, the values bound); `true` without any."""
    parts, params = [], []
    for col, value in values.items():
        if col not in DIMENSIONS:
            raise ValueError(f"{col!r} is not a filter dimension ({sorted(DIMENSIONS)})")
        parts.append(f"(?::VARCHAR IS NULL OR {alias}.{col} = ?)")
        params += [value, value]
    return " AND ".join(parts) or "true", params


def account_dims(alias: str, segment: str | None, region: str | None) -> tuple[str, list[Any]]:
    """Rows whose account (dim_accounts joined as `alias`) is of the segment and region; None
    means all, and rows without a known account are kept only then."""
    return (
        f"(?::VARCHAR IS NULL OR {alias}.segment = ?) "
        f"AND (?::VARCHAR IS NULL OR {alias}.region = ?)",
        [segment, segment, region, region],
    )
