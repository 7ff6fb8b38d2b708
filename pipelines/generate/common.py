"""Small shared helpers: rows and value formatting in the contract's CSV forms, the price book, FX
levels."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from pipelines.contract import TABLES
from pipelines.generate.billing import Plan

DAY = dt.timedelta(days=1)
COLS = {t.qualified_name: t.column_names for t in TABLES}
#: day 0 of numpy datetime64[D] / Arrow Date32, as a proleptic ordinal
EPOCH_ORD = dt.date(1970, 1, 1).toordinal()
CURRENCIES = ("USD", "EUR", "GBP", "JPY")
#: units per USD around which the FX random walk moves
FX_LEVEL = {"EUR": Decimal("0.92"), "GBP": Decimal("0.79"), "JPY": Decimal("150")}


def R(table: str, known: dt.date, **kw: object) -> tuple:
    """A row: (known day, key, values in contract column order). Values are text or None."""
    cols = COLS[table]
    return (known, kw[cols[0]], *(kw.get(c) for c in cols))


@lru_cache(maxsize=200_000)
def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def d2s(d: dt.date | None) -> str | None:
    return None if d is None else _iso(d.toordinal())


def ts(d: dt.date, seconds: int = 0) -> str:
    """Timestamp `seconds` after midnight UTC of day d (seconds may exceed a day)."""
    extra, s = divmod(int(seconds), 86400)
    h, rem = divmod(s, 3600)
    return f"{_iso(d.toordinal() + extra)}T{h:02d}:{rem // 60:02d}:{rem % 60:02d}Z"


def dec(x: Decimal | None) -> str | None:
    """Plain decimal text (no exponent, no negative zero)."""
    if x is None:
        return None
    if x == 0:
        x = abs(x)
    return format(x, "f")


def q(x: Decimal, places: str = "0.01") -> Decimal:
    return x.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def b2s(b: bool | None) -> str | None:
    return None if b is None else ("true" if b else "false")


# --- price book: one plan per product and currency -------------------------------------------
#: key, name, family, charge_type, period months, USD list price, included units, usage metric
PRODUCTS: tuple[tuple[str, str, str, str, int | None, str, str | None, str | None], ...] = (
    (
        "PLAT-CORE-M",
        "Platform Core (monthly, per seat)",
        "platform",
        "recurring",
        1,
        "49",
        None,
        None,
    ),
    (
        "PLAT-CORE-Q",
        "Platform Core (quarterly, per seat)",
        "platform",
        "recurring",
        3,
        "139",
        None,
        None,
    ),
    (
        "PLAT-CORE-A",
        "Platform Core (annual, per seat)",
        "platform",
        "recurring",
        12,
        "529",
        None,
        None,
    ),
    (
        "PLAT-PRO-M",
        "Platform Pro (monthly, per seat)",
        "platform",
        "recurring",
        1,
        "89",
        None,
        None,
    ),
    (
        "PLAT-PRO-A",
        "Platform Pro (annual, per seat)",
        "platform",
        "recurring",
        12,
        "959",
        None,
        None,
    ),
    ("PLAT-TEAM-M", "Platform Team (monthly, flat)", "platform", "recurring", 1, "499", None, None),
    (
        "PLAT-LEGACY-M",
        "Platform Classic (monthly, per seat, retired)",
        "platform",
        "recurring",
        1,
        "39",
        None,
        None,
    ),
    (
        "ANLT-SUITE-Q",
        "Analytics Suite (quarterly, flat)",
        "analytics",
        "recurring",
        3,
        "1500",
        None,
        None,
    ),
    (
        "ANLT-SUITE-A",
        "Analytics Suite (annual, flat)",
        "analytics",
        "recurring",
        12,
        "5400",
        None,
        None,
    ),
    ("PAY-API-U", "Payments API calls", "payments", "usage", None, "0.01", "1000", "api_calls"),
    (
        "PAY-TXN-U",
        "Payments transactions",
        "payments",
        "usage",
        None,
        "0.25",
        "100",
        "transactions",
    ),
    ("ANLT-QRY-U", "Analytics queries", "analytics", "usage", None, "0.002", "50000", "queries"),
    ("SVC-IMPL-STD", "Implementation (standard)", "services", "one_time", None, "4000", None, None),
    (
        "SVC-IMPL-ENT",
        "Implementation (enterprise)",
        "services",
        "one_time",
        None,
        "20000",
        None,
        None,
    ),
)
RETIRED = {"PLAT-LEGACY-M"}


def plan_id(key: str, ccy: str) -> str:
    return f"PLN-{key}-{ccy}"


def local_price(usd: Decimal, ccy: str, charge_type: str) -> Decimal:
    """List price in `ccy`: recurring/one-time in whole units, usage to 4 decimals."""
    if ccy == "USD":
        return usd
    x = usd * FX_LEVEL[ccy]
    return q(x, "0.0001") if charge_type == "usage" else q(x, "1")


def price_book() -> tuple[dict[str, Plan], list[dict]]:
    """Plans for the billing simulator and their rows (with family/name) for billing/plans."""
    plans: dict[str, Plan] = {}
    rows: list[dict] = []
    for key, name, fam, ctype, months, usd, incl, metric in PRODUCTS:
        for ccy in CURRENCIES:
            pid = plan_id(key, ccy)
            price = local_price(Decimal(usd), ccy, ctype)
            inc = Decimal(incl) if incl else Decimal(0)
            plans[pid] = Plan(pid, ctype, price, months, inc, metric, ccy)
            rows.append(
                dict(
                    plan_id=pid,
                    product_id=f"PRD-{key}",
                    product_name=name,
                    product_family=fam,
                    charge_type=ctype,
                    billing_period_months=months,
                    unit_price=price,
                    included_units=inc if ctype == "usage" else None,
                    usage_metric=metric,
                    currency=ccy,
                    active=key not in RETIRED,
                )
            )
    return plans, rows


FAMILY = {plan_id(p[0], c): p[2] for p in PRODUCTS for c in CURRENCIES}
