"""Display formatting and period helpers (pure functions, no Streamlit).

Money arrives as `decimal.Decimal` from the marts and is formatted from the Decimal directly, so a
table never shows a float artefact; only charts convert to float (in `charts.py`).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

DASH = "—"


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and pandas NA all count as "no value"."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def money(value: Any, decimals: int = 2, symbol: str = "$") -> str:
    """`$1,234,567.89`; negative as `-$1,234.00`; missing as an em dash."""
    if is_missing(value):
        return DASH
    d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    d = d.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)  # R1: half away from zero
    sign = "-" if d < 0 else ""
    return f"{sign}{symbol}{abs(d):,.{decimals}f}"


def money_short(value: Any, symbol: str = "$", signed: bool = False) -> str:
    """Tile-sized money: `$1.23M`, `$456.7K`, `$950`; `signed` adds `+` to positives."""
    if is_missing(value):
        return DASH
    v = float(value)
    sign = "-" if v < 0 else ("+" if signed and v > 0 else "")
    a = abs(v)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= limit:
            scaled = a / limit
            digits = 2 if scaled < 10 else 1
            return f"{sign}{symbol}{scaled:,.{digits}f}{suffix}"
    return f"{sign}{symbol}{a:,.0f}"


def pct(value: Any, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.9213 → `92.1%`."""
    if is_missing(value):
        return DASH
    return f"{float(value) * 100:.{decimals}f}%"


def delta_money(current: Any, previous: Any) -> str | None:
    """Signed short-money change for a tile delta, None when either side is missing."""
    if is_missing(current) or is_missing(previous):
        return None
    return money_short(Decimal(str(current)) - Decimal(str(previous)), signed=True)


def delta_pp(current: Any, previous: Any) -> str | None:
    """Change of a rate in percentage points (`+0.4 pp`), None when either side is missing."""
    if is_missing(current) or is_missing(previous):
        return None
    d = (float(current) - float(previous)) * 100
    if math.isclose(d, 0, abs_tol=0.05):
        return "0.0 pp"
    return f"{d:+.1f} pp"


def days(value: Any) -> str:
    """A duration in days: 41.96 → `42.0 d`."""
    if is_missing(value):
        return DASH
    return f"{float(value):,.1f} d"


def delta_days(current: Any, previous: Any) -> str | None:
    """Signed change of a duration in days (`+1.5 d`), None when either side is missing."""
    if is_missing(current) or is_missing(previous):
        return None
    return f"{float(current) - float(previous):+.1f} d"


def month_label(value: Any, short: bool = False) -> str:
    """`October 2026` (or `Oct 2026`) for a month's first day."""
    if is_missing(value):
        return DASH
    d = pd.Timestamp(value)
    return d.strftime("%b %Y" if short else "%B %Y")


def month_end(month: dt.date) -> dt.date:
    """Last day of the month that starts on `month`."""
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def as_date(value: Any) -> dt.date | None:
    """A date from a date, datetime, Timestamp or ISO string; None when missing."""
    if is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def latest_full_month(months: list[Any], as_of: dt.date | None) -> dt.date | None:
    """The latest month that ended on or before the as-of date (the tiles' month).

    Marts carry the month containing the as-of date too (recognized to date, R3/R4); it is not a
    full month. Without an as-of date the latest month in the marts is used.
    """
    ds = sorted(d for d in (as_date(m) for m in months) if d is not None)
    if not ds:
        return None
    if as_of is None:
        return ds[-1]
    full = [d for d in ds if month_end(d) <= as_of]
    return full[-1] if full else None


def money_columns(df: pd.DataFrame) -> list[str]:
    """Columns holding reporting-currency money (by the warehouse's `_usd` naming rule)."""
    return [c for c in df.columns if str(c).endswith("_usd")]
