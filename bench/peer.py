"""The pandas peer: what a team without subops would write to get month-end MRR and recognized
revenue per month from the same landing folder (CSV extracts), in the reporting currency (USD).

The rules are the simplest honest reading of the metric rules: subscription events folded into
segments (R2), MRR = quantity × price / billing period of the active recurring segments on the
month's last day (R5), invoiced lines recognized by day over their service period with the
no-lost-cent split, credit notes in their month (R4), converted at the month-end rate (R1).
Money is exact: Decimal for MRR, integer cents for revenue; floats never touch an amount.
What it does not do (and subops does): contract checks, quarantine, screening of bad events,
deduplication across versions beyond the key, computed invoices (it trusts the billing system).
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

STATUS = {"activate": "active", "resume": "active", "pause": "paused", "cancel": "cancelled"}


def read(landing: Path, table: str, key: str | list[str], version: str | None = None):
    """Every extract of a table (strings), the latest row per key (by version, then extract)."""
    files = sorted((Path(landing) / table).glob("*.csv"))
    df = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    if version:
        df = df.sort_values(version, kind="stable")
    return df.drop_duplicates(key, keep="last")


def month_index(dates: pd.Series) -> np.ndarray:
    return dates.dt.year.to_numpy() * 12 + dates.dt.month.to_numpy() - 1


def month_of(idx: int) -> dt.date:
    return dt.date(idx // 12, idx % 12 + 1, 1)


def snapshot_day(idx: int, as_of: dt.date) -> dt.date:
    """The month's last day, or the as-of date in the as-of month."""
    nxt = month_of(idx + 1) - dt.timedelta(days=1)
    return min(nxt, as_of)


class Rates:
    """units_per_usd of a currency on a day: the latest rate on or before it (USD: 1)."""

    def __init__(self, landing: Path):
        fx = read(landing, "reference/fx_rates", ["rate_date", "currency"]).sort_values("rate_date")
        self.by_cur = {
            c: (list(g.rate_date), [Decimal(v) for v in g.units_per_usd])
            for c, g in fx.groupby("currency")
        }

    def get(self, currency: str, day: dt.date) -> Decimal | None:
        if currency == "USD":
            return Decimal(1)
        dates, values = self.by_cur.get(currency, ([], []))
        i = bisect.bisect_right(dates, day.isoformat())
        return values[i - 1] if i else None


def mrr_by_month(landing: Path, as_of: dt.date, rates: Rates) -> dict[dt.date, Decimal]:
    """Month-end MRR in USD per month, from the first month with MRR to the as-of month."""
    plans = read(landing, "billing/plans", "plan_id").set_index("plan_id")
    ev = read(landing, "billing/subscription_events", "event_id")
    ev["recorded_at"] = pd.to_datetime(ev.recorded_at, utc=True, format="ISO8601")
    ev = ev.sort_values(["subscription_id", "effective_date", "recorded_at", "event_id"])
    t = ev.event_type
    sets = t.isin(["activate", "change"])
    renew = t == "renew"
    ev["plan"] = ev.plan_id.where(sets | (renew & ev.plan_id.notna()))
    ev["qty"] = ev.quantity.where(sets | (renew & ev.quantity.notna()))
    price = ev.unit_price.fillna(ev.plan_id.map(plans.unit_price))
    ev["price"] = price.where(sets | (renew & (ev.unit_price.notna() | ev.plan_id.notna())))
    ev["status"] = t.map(STATUS)
    cols = ["plan", "qty", "price", "status"]
    ev[cols] = ev.groupby("subscription_id")[cols].ffill()
    # a day's last event sets the segment that starts that day; the next day with events ends it
    seg = ev.drop_duplicates(["subscription_id", "effective_date"], keep="last").copy()
    seg["valid_to"] = seg.groupby("subscription_id").effective_date.shift(-1)
    seg = seg[(seg.status == "active") & (seg.effective_date <= as_of.isoformat())]
    seg = seg[seg.plan.map(plans.charge_type) == "recurring"]
    months = seg.plan.map(plans.billing_period_months).astype(int)
    terms = zip(seg.qty, seg.price, months, strict=True)
    seg["mrr"] = [Decimal(q) * Decimal(p) / m for q, p, m in terms]
    # months with the segment in force on their snapshot day: [first, last) as month indexes
    first = month_index(pd.to_datetime(seg.effective_date))
    a = as_of.year * 12 + as_of.month - 1
    ends = pd.to_datetime(seg.valid_to)
    open_ = ends.isna() | (seg.valid_to > as_of.isoformat())
    last = np.where(open_, a + 1, month_index(ends.fillna(pd.Timestamp(as_of))))
    delta = pd.concat(
        [
            pd.DataFrame({"cur": seg.currency, "m": first, "d": seg.mrr}),
            pd.DataFrame({"cur": seg.currency, "m": last, "d": [-x for x in seg.mrr]}),
        ]
    )
    delta = delta.groupby(["cur", "m"]).d.sum()
    out: dict[dt.date, Decimal] = {}
    for cur, series in delta.groupby(level="cur"):
        steps = dict(zip(series.index.get_level_values("m"), series, strict=True))
        level = Decimal(0)
        for m in range(min(steps), a + 1):
            level += steps.get(m, Decimal(0))
            rate = rates.get(str(cur), snapshot_day(m, as_of))
            if rate is not None:  # no rate: left out, as the marts do
                out[month_of(m)] = out.get(month_of(m), Decimal(0)) + level / rate
    return out


def _round_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den rounded half away from zero, in integers."""
    return np.sign(num) * ((2 * np.abs(num) + den) // (2 * den))


def revenue_by_month(landing: Path, as_of: dt.date, rates: Rates) -> dict[dt.date, Decimal]:
    """Recognized revenue in USD per month up to the as-of month: invoiced lines by day over
    their service period (each month's share in cents, adding up to the line), less credits."""
    inv = read(landing, "billing/invoices", "invoice_id", version="updated_at")
    lines = read(landing, "billing/invoice_lines", "invoice_line_id")
    lines = lines.merge(inv[["invoice_id", "currency", "status"]], on="invoice_id")
    lines = lines[lines.status != "void"]
    cents = (pd.to_numeric(lines.amount) * 100).round().astype("int64").to_numpy()
    start = pd.to_datetime(lines.period_start).to_numpy().astype("datetime64[D]")
    end = pd.to_datetime(lines.period_end).to_numpy().astype("datetime64[D]")
    end = np.maximum(end, start + 1)
    total = (end - start).astype("int64")
    first = start.astype("datetime64[M]")
    n = ((end - 1).astype("datetime64[M]") - first).astype("int64") + 1
    rows = np.repeat(np.arange(len(cents)), n)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(n) - n, n)
    month = first[rows] + k
    s, e, a, t = start[rows], end[rows], cents[rows], total[rows]
    upto = (np.minimum((month + 1).astype("datetime64[D]"), e) - s).astype("int64")
    before = (np.maximum(month.astype("datetime64[D]"), s) - s).astype("int64")
    share = _round_div(a * upto, t) - _round_div(a * before, t)
    rev = pd.DataFrame({"cur": lines.currency.to_numpy()[rows], "month": month, "c": share})
    cn = read(landing, "billing/credit_notes", "credit_note_id")
    credits = pd.DataFrame(
        {
            "cur": cn.currency,
            "month": pd.to_datetime(cn.issued_date).to_numpy().astype("datetime64[M]"),
            "c": -(pd.to_numeric(cn.amount) * 100).round().astype("int64"),
        }
    )
    by = pd.concat([rev, credits]).groupby(["month", "cur"]).c.sum()
    out: dict[dt.date, Decimal] = {}
    a_month = np.datetime64(as_of, "M")
    for (m, cur), c in by.items():
        if np.datetime64(m, "M") > a_month:
            continue
        day = pd.Timestamp(m).date()
        rate = rates.get(str(cur), snapshot_day(day.year * 12 + day.month - 1, as_of))
        if rate is not None:
            out[day] = out.get(day, Decimal(0)) + Decimal(int(c)) / 100 / rate
    return out


def run_peer(landing: Path, as_of: dt.date) -> dict[str, dict[dt.date, Decimal]]:
    """What the peer computes: MRR and recognized revenue per month, USD."""
    rates = Rates(landing)
    return {
        "mrr": mrr_by_month(landing, as_of, rates),
        "revenue": revenue_by_month(landing, as_of, rates),
    }


def compare(peer: dict[dt.date, Decimal], marts: dict[dt.date, Decimal]) -> dict:
    """Month by month (a month one side lacks counts as 0 there): months within a cent, the
    largest difference and its month."""
    months = sorted(set(peer) | set(marts))
    diffs = {m: peer.get(m, Decimal(0)) - marts.get(m, Decimal(0)) for m in months}
    worst = max(months, key=lambda m: abs(diffs[m]), default=None)
    return {
        "months": len(months),
        "months_within_a_cent": sum(abs(d) < Decimal("0.01") for d in diffs.values()),
        "max_abs_diff_usd": str(abs(diffs[worst]).quantize(Decimal("0.0001"))) if worst else "0",
        "worst_month": worst.isoformat() if worst else None,
        "peer_total_usd": str(sum(peer.values(), Decimal(0)).quantize(Decimal("0.01"))),
        "marts_total_usd": str(sum(marts.values(), Decimal(0)).quantize(Decimal("0.01"))),
    }
