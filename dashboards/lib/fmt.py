"""Display formatting and period helpers (pure functions, no Streamlit).

Money arrives as `decimal.Decimal` from the marts and is formatted from the Decimal directly, so a
table never shows a float artefact; only charts convert to float (in `charts.py`). Every `_usd`
column holds the build's reporting currency (audit.build_info.reporting_currency), which need not
be USD: money is always formatted with a `Currency`, never with a hard-coded `$`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
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


#: Symbols of the common reporting currencies; any other code is shown as itself (`CHF 1.2K`).
SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
#: Currencies without minor units: amounts are shown without decimals.
NO_MINOR_UNITS: frozenset[str] = frozenset({"JPY"})
#: Streamlit's own table number formats for a currency (others get a printf format).
COLUMN_PRESETS: dict[str, str] = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}


@dataclass(frozen=True)
class Currency:
    """The reporting currency money is shown in; `code` empty when the build does not say."""

    code: str

    @property
    def symbol(self) -> str:
        return SYMBOLS.get(self.code, "")

    @property
    def prefix(self) -> str:
        """What precedes an amount: `$`, `€` or `CHF ` (nothing when the currency is unknown)."""
        return self.symbol or (f"{self.code} " if self.code else "")

    @property
    def decimals(self) -> int:
        return 0 if self.code in NO_MINOR_UNITS else 2

    @property
    def label(self) -> str:
        """Column-header suffix: `(EUR)`."""
        return f"({self.code})" if self.code else "(reporting currency)"

    @property
    def column_format(self) -> str:
        """A Streamlit NumberColumn format for full amounts in this currency."""
        return COLUMN_PRESETS.get(self.code) or f"{self.prefix}%,.{self.decimals}f"


def currency(code: Any) -> Currency:
    """The Currency of an ISO code as the warehouse stores it (None/blank → unknown)."""
    return Currency("" if is_missing(code) else str(code).strip().upper())


def money(value: Any, cur: Currency, decimals: int | None = None) -> str:
    """`$1,234,567.89` (`€…`, `CHF …`); negative as `-$1,234.00`; missing as an em dash."""
    if is_missing(value):
        return DASH
    places = cur.decimals if decimals is None else decimals
    d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    d = d.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)  # R1: half away from zero
    sign = "-" if d < 0 else ""
    return f"{sign}{cur.prefix}{abs(d):,.{places}f}"


def money_short(value: Any, cur: Currency, signed: bool = False) -> str:
    """Tile-sized money: `$1.23M`, `€456.7K`, `$950`; `signed` adds `+` to positives."""
    if is_missing(value):
        return DASH
    v = float(value)
    sign = "-" if v < 0 else ("+" if signed and v > 0 else "")
    a = abs(v)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= limit:
            scaled = a / limit
            digits = 2 if scaled < 10 else 1
            return f"{sign}{cur.prefix}{scaled:,.{digits}f}{suffix}"
    return f"{sign}{cur.prefix}{a:,.0f}"


def pct(value: Any, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.9213 → `92.1%`."""
    if is_missing(value):
        return DASH
    return f"{float(value) * 100:.{decimals}f}%"


def delta_money(current: Any, previous: Any, cur: Currency) -> str | None:
    """Signed short-money change for a tile delta, None when either side is missing."""
    if is_missing(current) or is_missing(previous):
        return None
    return money_short(Decimal(str(current)) - Decimal(str(previous)), cur, signed=True)


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
