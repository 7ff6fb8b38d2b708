"""The dashboard's global filters as plain data: parsed from a URL's query parameters, checked
against allow-lists taken from the warehouse, written back to the URL. No Streamlit here (the
sidebar widgets live in `dashboards/lib/sidebar.py`), so every rule is unit-testable.

A value that is not on its allow-list never reaches SQL: it is dropped, the default is used and
the reason is reported (`Parsed.ignored`), so a hand-edited or malicious URL shows a note rather
than an error or a query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Period presets, in the order the sidebar offers them (URL value → label).
PRESETS: dict[str, str] = {
    "12m": "Last 12 months",
    "3m": "Last 3 months",
    "ytd": "Year to date",
    "24m": "Last 24 months",
    "all": "All history",
    "custom": "Custom range",
}
DEFAULT_PRESET = "12m"
#: Comparison bases (URL value → months back, label).
COMPARISONS: dict[str, tuple[int, str]] = {
    "mom": (1, "MoM"),
    "qoq": (3, "QoQ"),
    "yoy": (12, "YoY"),
}
DEFAULT_COMPARISON = "mom"
#: The URL keys the global filters own; pages may add their own (e.g. `account`).
PARAM_KEYS: tuple[str, ...] = ("period", "from", "to", "cmp", "segment", "region", "family")
#: Dimension filter (URL key) → the Filters attribute it sets.
DIMENSIONS: dict[str, str] = {
    "segment": "segment",
    "region": "region",
    "family": "product_family",
}


@dataclass(frozen=True)
class Options:
    """What the filters may take in this build: its months (first days, ascending, full months
    only) and the distinct segments, regions and product families of its marts."""

    months: tuple[dt.date, ...]
    segments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    product_families: tuple[str, ...] = ()

    def allowed(self, key: str) -> tuple[str, ...]:
        """The allow-list of a dimension's URL key."""
        return {
            "segment": self.segments,
            "region": self.regions,
            "family": self.product_families,
        }[key]


@dataclass(frozen=True)
class Filters:
    """The filters every page reads. `start`/`end` are first days of months (inclusive);
    a dimension of None means all of it."""

    preset: str = DEFAULT_PRESET
    start: dt.date | None = None
    end: dt.date | None = None
    comparison: str = DEFAULT_COMPARISON
    segment: str | None = None
    region: str | None = None
    product_family: str | None = None

    @property
    def comparison_months(self) -> int:
        """How many months back the comparison period lies (1, 3 or 12)."""
        return COMPARISONS[self.comparison][0]

    @property
    def comparison_label(self) -> str:
        """ "MoM", "QoQ" or "YoY"."""
        return COMPARISONS[self.comparison][1]

    def compare_to(self, month: dt.date) -> dt.date:
        """The month a tile for `month` is compared with."""
        return add_months(month, -self.comparison_months)

    @property
    def dimensions(self) -> dict[str, str]:
        """The dimension filters that are set, by Filters attribute."""
        return {
            attr: value
            for attr in DIMENSIONS.values()
            if (value := getattr(self, attr)) is not None
        }

    def dims(self) -> tuple[str | None, str | None, str | None]:
        """(segment, region, product_family), the bound parameters of a filtered query."""
        return (self.segment, self.region, self.product_family)

    def describe(self) -> str:
        """One line for captions: the period and the dimension filters."""
        parts = []
        if self.start and self.end:
            parts.append(f"{self.start:%b %Y} – {self.end:%b %Y}")
        parts += [f"{k.replace('_', ' ')} {v}" for k, v in self.dimensions.items()]
        return " · ".join(parts) if parts else "all data"


@dataclass(frozen=True)
class Parsed:
    """The filters a URL asked for, and the parameters that were ignored (with why)."""

    filters: Filters
    ignored: tuple[str, ...] = field(default_factory=tuple)


def add_months(month: dt.date, n: int) -> dt.date:
    """First day of the month `n` months after `month` (negative: before)."""
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _month(text: str) -> dt.date | None:
    """`2026-03` or `2026-03-01` → 2026-03-01; anything else → None."""
    try:
        return dt.date.fromisoformat(text[:7] + "-01") if len(text) in (7, 10) else None
    except ValueError:
        return None


def preset_range(preset: str, months: Sequence[dt.date]) -> tuple[dt.date, dt.date] | None:
    """(start, end) of a preset over the available months; the end is the latest full month."""
    if not months:
        return None
    end, first = months[-1], months[0]
    start = {
        "12m": add_months(end, -11),
        "3m": add_months(end, -2),
        "24m": add_months(end, -23),
        "ytd": dt.date(end.year, 1, 1),
        "all": first,
    }.get(preset, add_months(end, -11))
    return max(start, first), end


def parse(params: Mapping[str, str | Sequence[str]], options: Options) -> Parsed:
    """Filters from query parameters; every value is checked against `options`."""
    ignored: list[str] = []

    def get(key: str) -> str | None:
        raw = params.get(key)
        if raw is None:
            return None
        value = raw if isinstance(raw, str) else (raw[-1] if raw else "")
        return value.strip() or None

    preset = get("period") or DEFAULT_PRESET
    if preset not in PRESETS:
        ignored.append(f"period={preset!r} is not one of {', '.join(PRESETS)}")
        preset = DEFAULT_PRESET
    comparison = (get("cmp") or DEFAULT_COMPARISON).lower()
    if comparison not in COMPARISONS:
        ignored.append(f"cmp={get('cmp')!r} is not one of {', '.join(COMPARISONS)}")
        comparison = DEFAULT_COMPARISON
    span = preset_range(preset, options.months)
    start, end = span if span else (None, None)
    if preset == "custom" and options.months:
        start, end = _custom(get("from"), get("to"), options.months, ignored)
    dims: dict[str, str | None] = {}
    for key, attr in DIMENSIONS.items():
        value = get(key)
        if value is not None and value not in options.allowed(key):
            ignored.append(f"{key}={value!r} is not a {attr.replace('_', ' ')} in this warehouse")
            value = None
        dims[attr] = value
    filters = Filters(preset, start, end, comparison, **dims)
    return Parsed(filters, tuple(ignored))


def _custom(
    since: str | None, until: str | None, months: Sequence[dt.date], ignored: list[str]
) -> tuple[dt.date, dt.date]:
    """A custom range clamped to the available months; a bad bound falls back to the preset's."""
    default = preset_range(DEFAULT_PRESET, months)
    assert default is not None
    bounds = []
    for key, text, fallback in (("from", since, default[0]), ("to", until, default[1])):
        month = _month(text) if text else fallback
        if month is None or month not in months:
            ignored.append(f"{key}={text!r} is not a month of this warehouse (YYYY-MM)")
            month = fallback
        bounds.append(month)
    start, end = bounds
    if start > end:
        ignored.append("from is after to: the two were swapped")
        start, end = end, start
    return start, end


def to_params(filters: Filters) -> dict[str, str]:
    """The URL parameters that reproduce `filters` (defaults left out, so URLs stay short)."""
    out: dict[str, str] = {}
    if filters.preset != DEFAULT_PRESET:
        out["period"] = filters.preset
    if filters.preset == "custom" and filters.start and filters.end:
        out["from"] = f"{filters.start:%Y-%m}"
        out["to"] = f"{filters.end:%Y-%m}"
    if filters.comparison != DEFAULT_COMPARISON:
        out["cmp"] = filters.comparison
    for key, attr in DIMENSIONS.items():
        value = getattr(filters, attr)
        if value is not None:
            out[key] = value
    return out
