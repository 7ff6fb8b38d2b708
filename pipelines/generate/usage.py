"""The metering system: daily usage of each usage subscription while it is active (weekly rhythm,
growth, noise, spikes, some late arrivals), and the month totals the billing system bills."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from pipelines.generate.account import Account, AccountOut
from pipelines.generate.billing import Event
from pipelines.generate.common import DAY, EPOCH_ORD
from pipelines.generate.params import USAGE, Params
from pipelines.generate.subscriptions import Subscription

#: A customer on its way out uses less: usage falls linearly over the days before a cancellation
#: to this share of its level (docs/metrics.md M1).
LEAVING_DAYS = 150
LEAVING_FLOOR = 0.3


def _active_days(
    sid: str, events: list[Event], horizon: dt.date
) -> tuple[dt.date, int, int | None] | None:
    """(first day, number of days, days from the first to its cancellation if it has one) a usage
    subscription runs until its cancel or the horizon."""
    evs = sorted(
        (e for e in events if e.subscription_id == sid),
        key=lambda e: (e.effective_date, e.recorded_at, e.event_id),
    )
    if not evs:
        return None
    a = evs[0].effective_date
    cancel = next((e.effective_date for e in evs if e.event_type == "cancel"), None)
    days = (min(cancel or horizon + DAY, horizon + DAY) - a).days
    return (a, days, None if cancel is None else (cancel - a).days) if days > 0 else None


def _daily(
    p: Params,
    a: Account,
    sid: str,
    metric: str,
    first: dt.date,
    days: int,
    until_cancel: int | None,
) -> dict:
    """Column arrays of one subscription's daily usage (own numpy stream per subscription); a
    cancelled one declines over its last LEAVING_DAYS."""
    nr = np.random.default_rng([p.seed, a.n, int(sid[-2:]), 11])
    level = USAGE[metric][1][a.segment] * nr.lognormal(0, 0.5)
    t = np.arange(days)
    dow = (first.toordinal() + t) % 7  # ordinal 1 is a Monday: 0 = Sunday, 6 = Saturday
    weekday = np.where((dow == 6) | (dow == 0), 0.45, 1.0)
    growth = np.exp(t * nr.normal(0.0008, 0.0006))
    noise = nr.lognormal(0, 0.25, size=days)
    spikes = np.where(nr.random(days) < 0.02, nr.uniform(3, 10, size=days), 1.0)
    leaving = (
        1.0
        if until_cancel is None
        else np.clip(
            LEAVING_FLOOR + (1 - LEAVING_FLOOR) * (until_cancel - t) / LEAVING_DAYS,
            LEAVING_FLOOR,
            1.0,
        )
    )
    qty = np.floor(level * weekday * growth * noise * spikes * leaving).astype(np.int64)
    lag = np.ones(days, dtype=np.int64)
    late = nr.random(days) < 0.04
    lag[late] = nr.integers(2, 11, size=int(late.sum()))
    recv_s = nr.integers(3600, 5 * 3600, size=days)
    occ = first.toordinal() + t
    return dict(
        sid=sid, acct=a.account_id, metric=metric, occ=occ, rec=occ + lag, recv_s=recv_s, qty=qty
    )


def meter(
    p: Params,
    a: Account,
    out: AccountOut,
    events: list[Event],
    usage_subs: list[tuple[Subscription, str]],
) -> dict[tuple[str, dt.date], Decimal]:
    """Daily usage rows for each usage subscription's active days; returns month totals of every
    row, including ones that arrive after the horizon: the billing system bills from the
    metering system's final totals."""
    totals: dict[tuple[str, dt.date], Decimal] = {}
    for sub, metric in usage_subs:
        span = _active_days(sub.sid, events, p.horizon)
        if span is None:
            continue
        part = _daily(p, a, sub.sid, metric, *span)
        out.usage.append(part)
        mon = (part["occ"] - EPOCH_ORD).astype("datetime64[D]").astype("datetime64[M]")
        months, cuts = np.unique(mon, return_index=True)
        sums = np.add.reduceat(part["qty"], cuts)
        for m, s in zip(months.tolist(), sums.tolist(), strict=True):
            totals[(sub.sid, m)] = Decimal(s)
    return totals
