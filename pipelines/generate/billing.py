"""R3 as a pure function: subscription events + price book + usage + one-time charges -> the
invoice lines a correct billing system issues. The generator's billing system starts from these
lines (then injects known exceptions); tests call `compute_lines` directly on hand-made input.
Follows docs/dev/billing-rules.md to the cent (Decimal, half away from zero)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(x: Decimal) -> Decimal:
    """Round once to cents, half away from zero; never returns negative zero."""
    r = x.quantize(CENT, rounding=ROUND_HALF_UP)
    return r if r != 0 else CENT * 0


def add_months(d: dt.date, n: int) -> dt.date:
    """`d` plus n months, a day past the end of a shorter month clamped to its last day."""
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


@dataclass(frozen=True)
class Plan:
    plan_id: str
    charge_type: str  # recurring | usage | one_time
    unit_price: Decimal
    billing_period_months: int | None = None
    included_units: Decimal = ZERO
    usage_metric: str | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class Event:
    event_id: str
    subscription_id: str
    account_id: str
    event_type: str  # activate | change | pause | resume | cancel | renew
    effective_date: dt.date
    recorded_at: str  # ISO timestamp; sorts as text
    plan_id: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None  # None = plan list price
    currency: str = "USD"


@dataclass(frozen=True)
class Charge:
    charge_id: str
    account_id: str
    plan_id: str
    amount: Decimal
    milestone_date: dt.date
    currency: str = "USD"


@dataclass(frozen=True)
class Line:
    """One computed invoice line (R3). `cause` is the event behind it (None for periodic lines)."""

    account_id: str
    currency: str
    line_date: dt.date
    line_type: str  # recurring | proration | usage | one_time
    plan_id: str
    period_start: dt.date
    period_end: dt.date
    quantity: Decimal
    amount: Decimal
    subscription_id: str | None = None
    charge_id: str | None = None
    cause: str | None = None


def event_order(e: Event) -> tuple[dt.date, str, str]:
    return (e.effective_date, e.recorded_at, e.event_id)


def _terms(e: Event, plans: Mapping[str, Plan], cur: tuple | None) -> tuple[str, Decimal, Decimal]:
    """(plan_id, quantity, unit_price) an activate/change/renew sets; renew may omit plan and
    quantity (kept from the current terms); a NULL price means the plan's list price."""
    plan_id = e.plan_id or (cur[0] if cur else None)
    qty = e.quantity if e.quantity is not None else (cur[1] if cur else None)
    if plan_id is None or qty is None:
        raise ValueError(f"event {e.event_id} lacks plan or quantity")
    price = e.unit_price if e.unit_price is not None else plans[plan_id].unit_price
    return plan_id, qty, price


def _recurring_lines(evs: Sequence[Event], plans: Mapping[str, Plan], as_of: dt.date) -> list[Line]:
    return _RecurringBilling(evs[0], plans, as_of).lines(evs)


class _RecurringBilling:
    """R3 for one recurring subscription, event by event: full periods from the anchor while
    active; a mid-period change credits the rest of the billed period and charges it at the new
    terms (a new period length re-anchors instead); pause/cancel credit the rest."""

    def __init__(self, first: Event, plans: Mapping[str, Plan], as_of: dt.date):
        self.sub, self.acct, self.ccy = first.subscription_id, first.account_id, first.currency
        self.plans, self.as_of = plans, as_of
        self.out: list[Line] = []
        self.terms: tuple[str, Decimal, Decimal] | None = None
        self.active = False
        self.anchor: dt.date | None = None
        self.k = 0  # index of the next period to bill, counted from the anchor
        self.billed: tuple[dt.date, dt.date] | None = None  # last billed period [s, e)

    def lines(self, evs: Sequence[Event]) -> list[Line]:
        for e in evs:
            if e.effective_date > self.as_of:
                break
            self._bill_until(e.effective_date)
            self._apply(e)
        self._bill_until(self.as_of + dt.timedelta(days=1))
        return self.out

    def _apply(self, e: Event) -> None:
        t = e.event_type
        if t == "activate" or (t == "resume" and self.terms is not None):
            if t == "activate":
                self.terms = _terms(e, self.plans, self.terms)
            self.active, self.anchor, self.k, self.billed = True, e.effective_date, 0, None
        elif t in ("change", "renew") and self.terms is not None:
            self._change(e)
        elif t in ("pause", "cancel"):
            if self._covering(e.effective_date):
                self._credit(e.effective_date, e.event_id)
            self.active, self.billed = False, None

    def _change(self, e: Event) -> None:
        d = e.effective_date
        new = _terms(e, self.plans, self.terms)
        if new == self.terms:
            return
        cov = self._covering(d)
        if self._months(self.terms) != self._months(new):
            if cov:
                self._credit(d, e.event_id)
            self.terms = new
            if self.active:
                self.anchor, self.k, self.billed = d, 0, None
            return
        if cov:
            self._credit(d, e.event_id)
            s, end = cov
            pid, q, p = new
            amt = money(q * p * Decimal((end - d).days) / Decimal((end - s).days))
            self.out.append(
                Line(
                    self.acct,
                    self.ccy,
                    d,
                    "proration",
                    pid,
                    d,
                    end,
                    q,
                    amt,
                    self.sub,
                    cause=e.event_id,
                )
            )
        self.terms = new

    def _months(self, terms: tuple[str, Decimal, Decimal]) -> int | None:
        return self.plans[terms[0]].billing_period_months

    def _period(self, i: int) -> tuple[dt.date, dt.date]:
        n = self._months(self.terms) or 1
        return add_months(self.anchor, i * n), add_months(self.anchor, (i + 1) * n)

    def _bill_until(self, limit: dt.date) -> None:
        """Bill full periods starting before `limit` (and on or before as_of)."""
        while self.active:
            s, e = self._period(self.k)
            if s >= limit or s > self.as_of:
                return
            pid, q, p = self.terms
            self.out.append(
                Line(self.acct, self.ccy, s, "recurring", pid, s, e, q, money(q * p), self.sub)
            )
            self.billed, self.k = (s, e), self.k + 1

    def _covering(self, d: dt.date) -> tuple[dt.date, dt.date] | None:
        """The billed period d falls strictly inside, while active."""
        if self.active and self.billed and self.billed[0] < d < self.billed[1]:
            return self.billed
        return None

    def _credit(self, d: dt.date, cause: str) -> None:
        """Credit the rest of the billed period from d at the current terms."""
        s, e = self.billed
        pid, q, p = self.terms
        amt = -money(q * p * Decimal((e - d).days) / Decimal((e - s).days))
        self.out.append(
            Line(
                self.acct, self.ccy, d, "proration", pid, d, e, q, money(amt), self.sub, cause=cause
            )
        )


def active_intervals(
    evs: Sequence[Event], plans: Mapping[str, Plan]
) -> list[tuple[dt.date, dt.date | None, tuple[str, Decimal, Decimal]]]:
    """Segments [from, to) with their terms while active (to None = open); for usage months."""
    segs: list[tuple[dt.date, dt.date | None, tuple[str, Decimal, Decimal]]] = []
    terms = None
    active = False
    start: dt.date | None = None

    def close(d: dt.date) -> None:
        if active and start is not None and d > start:
            segs.append((start, d, terms))

    for e in evs:
        d, t = e.effective_date, e.event_type
        if t == "activate" or (t == "resume" and terms is not None):
            close(d)
            if t == "activate":
                terms = _terms(e, plans, terms)
            active, start = True, d
        elif t in ("change", "renew") and terms is not None:
            close(d)
            terms, start = _terms(e, plans, terms), d
        elif t in ("pause", "cancel"):
            close(d)
            active = False
    if active:
        segs.append((start, None, terms))
    return segs


def _usage_lines(
    evs: Sequence[Event],
    plans: Mapping[str, Plan],
    usage: Mapping[tuple[str, dt.date], Decimal],
    as_of: dt.date,
) -> list[Line]:
    first = evs[0]
    sub, acct, ccy = first.subscription_id, first.account_id, first.currency
    segs = active_intervals(evs, plans)
    # terms in force on each month's last active day: the last segment touching the month wins
    last_terms: dict[dt.date, tuple[str, Decimal, Decimal]] = {}
    for s, e, terms in segs:
        end = e or add_months(month_start(as_of), 1)
        m = month_start(s)
        while m < end:
            last_terms[m] = terms
            m = add_months(m, 1)
    out = []
    for m in sorted(last_terms):
        line_date = add_months(m, 1)
        if line_date > as_of:
            break
        pid, _q, price = last_terms[m]
        plan = plans[pid]
        total = usage.get((sub, m), ZERO)
        billable = max(ZERO, total - plan.included_units)
        out.append(
            Line(
                acct,
                ccy,
                line_date,
                "usage",
                pid,
                m,
                line_date,
                billable,
                money(billable * price),
                sub,
            )
        )
    return out


def compute_lines(
    events: Iterable[Event],
    plans: Mapping[str, Plan],
    usage: Mapping[tuple[str, dt.date], Decimal] | None = None,
    charges: Iterable[Charge] = (),
    as_of: dt.date = dt.date.max,
) -> list[Line]:
    """All R3 lines dated on or before `as_of`. `usage` maps (subscription_id, first day of a
    calendar month) to the month's total quantity (occurred_at in that month, UTC)."""
    usage = usage or {}
    by_sub: dict[str, list[Event]] = {}
    for e in events:
        by_sub.setdefault(e.subscription_id, []).append(e)
    out: list[Line] = []
    for evs in by_sub.values():
        evs.sort(key=event_order)
        first = next((e for e in evs if e.event_type == "activate"), None)
        if first is None:
            continue
        if plans[first.plan_id].charge_type == "usage":
            out += _usage_lines(evs, plans, usage, as_of)
        else:
            out += _recurring_lines(evs, plans, as_of)
    for c in charges:
        if c.milestone_date <= as_of:
            out.append(
                Line(
                    c.account_id,
                    c.currency,
                    c.milestone_date,
                    "one_time",
                    c.plan_id,
                    c.milestone_date,
                    c.milestone_date + dt.timedelta(days=1),
                    Decimal(1),
                    money(c.amount),
                    charge_id=c.charge_id,
                )
            )
    return out
