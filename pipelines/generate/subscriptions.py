"""Subscription life: from the first contract on, month by month, the customer renews, adds or
removes seats, moves plans, pauses, churns and sometimes comes back; all of it written as the
billing system's subscription event stream."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from pipelines.generate.account import Account
from pipelines.generate.billing import Event, add_months
from pipelines.generate.common import plan_id, q, ts
from pipelines.generate.crm import Contract, Crm, Deal
from pipelines.generate.params import PLAN_MOVES, USAGE, Params
from pipelines.generate.support import Ticket

MONTH = dt.timedelta(days=31)


class Subscription:
    """Generator-side state of one subscription (what the event stream encodes)."""

    def __init__(
        self,
        sid: str,
        key: str,
        qty: Decimal,
        price: Decimal | None,
        anchor: dt.date,
        months: int | None,
    ):
        self.sid, self.key, self.qty, self.price = sid, key, qty, price
        self.anchor, self.months = anchor, months
        self.active, self.ended = True, False

    def next_boundary(self, d: dt.date) -> dt.date:
        """First period start strictly after d."""
        k = 1
        while (b := add_months(self.anchor, k * self.months)) <= d:
            k += 1
        return b


class EventLog:
    """The account's subscription events in the order they happened, each with its contract."""

    def __init__(self, a: Account):
        self.a = a
        self.events: list[Event] = []
        self.contract_of: dict[str, str | None] = {}

    def add(
        self,
        sub: Subscription,
        etype: str,
        d: dt.date,
        rec: str,
        contract: str | None,
        key: str | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> None:
        a = self.a
        eid = f"EVT-{a.n:07d}-{len(self.events) + 1:04d}"
        pid = plan_id(key, a.currency) if key else None
        self.events.append(
            Event(eid, sub.sid, a.account_id, etype, d, rec, pid, qty, price, a.currency)
        )
        self.contract_of[eid] = contract

    def known_by(self, day: dt.date) -> list[Event]:
        """Events recorded on or before `day` (a backdated change may be recorded later)."""
        return [e for e in self.events if e.recorded_at[:10] <= day.isoformat()]

    def last_cancel(self) -> dt.date:
        return max(e.effective_date for e in self.events if e.event_type == "cancel")


class SubscriptionLife:
    """The subscriptions of one customer from its first contract to the horizon."""

    def __init__(
        self,
        p: Params,
        a: Account,
        rng: random.Random,
        crm: Crm,
        tickets: list[Ticket],
        deal: Deal,
        contract: Contract,
    ):
        self.p, self.a, self.rng, self.crm = p, a, rng, crm
        self.tickets = tickets
        self.deal = deal
        self.contract = contract
        self.first_start = contract.start
        self.log = EventLog(a)
        self.usage_all: list[tuple[Subscription, str]] = []
        self.paused_until: dt.date | None = None
        self.renewed_for: dt.date | None = None
        self.departures: list[dt.date] = []  # cancellation days (a customer who left)
        self._subs = 0
        self._open(contract.start, deal.key, deal.qty, deal.price, deal.close)

    # --- opening subscriptions -------------------------------------------------------------------
    def _sid(self) -> str:
        self._subs += 1
        return f"SUB-{self.a.n:07d}-{self._subs:02d}"

    def _months(self, key: str) -> int | None:
        return self.p.plans[plan_id(key, self.a.currency)].billing_period_months

    def _open(
        self, d: dt.date, key: str, qty: Decimal, price: Decimal | None, not_before: dt.date
    ) -> None:
        """Base plan (maybe with the analytics suite) and usage add-ons starting on d."""
        self.base_subs = self._new_subs(d, key, qty, price, not_before)
        self.base = self.base_subs[0]
        self.usage_subs = self._new_usage(d)
        self.usage_all += self.usage_subs

    def _new_subs(
        self, d: dt.date, key: str, qty: Decimal, price: Decimal | None, not_before: dt.date
    ) -> list[Subscription]:
        rng, cid = self.rng, self.contract.contract_id
        sub = Subscription(self._sid(), key, qty, price, d, self._months(key))
        rec_d = max(d - dt.timedelta(days=rng.randint(0, 3)), not_before)
        rec = ts(rec_d, rng.randint(8 * 3600, 20 * 3600)) if rec_d < d else ts(d, 7 * 3600)
        self.log.add(sub, "activate", d, rec, cid, key, qty, price)
        subs = [sub]
        if self.a.segment != "smb" and rng.random() < self.p.bundle_p:
            k2 = "ANLT-SUITE-A" if rng.random() < 0.5 else "ANLT-SUITE-Q"
            s2 = Subscription(self._sid(), k2, Decimal(1), None, d, self._months(k2))
            self.log.add(s2, "activate", d, rec, cid, k2, Decimal(1))
            subs.append(s2)
        return subs

    def _new_usage(self, d: dt.date) -> list[tuple[Subscription, str]]:
        """Usage-priced add-ons (enterprise often at a negotiated price)."""
        rng, seg = self.rng, self.a.segment
        if rng.random() >= self.a.profile.usage_p:
            return []
        metrics = ["api_calls"] if rng.random() < 0.5 else [rng.choice(list(USAGE))]
        if seg == "enterprise" and rng.random() < 0.3:
            metrics = ["api_calls", "queries"]
        res = []
        for m in metrics:
            k = USAGE[m][0]
            s = Subscription(self._sid(), k, Decimal(1), None, d, None)
            price = None
            if seg == "enterprise" and rng.random() < 0.5:
                lp = self.p.plans[plan_id(k, self.a.currency)].unit_price
                price = q(lp * Decimal("0.8"), "0.0001")
            self.log.add(
                s, "activate", d, ts(d, 7 * 3600), self.contract.contract_id, k, Decimal(1), price
            )
            res.append((s, m))
        return res

    # --- month by month --------------------------------------------------------------------------
    def run(self) -> None:
        d: dt.date | None = self.contract.start
        while d is not None:
            d = self._month(add_months(d, 1))

    def _month(self, d: dt.date) -> dt.date | None:
        """One month's decision (on a random day of it); returns the day the next month counts
        from (a comeback restarts the calendar), None when the story is over."""
        H, base = self.p.horizon, self.base
        if d > H or (base.ended and not base.active):
            return None
        day = d + dt.timedelta(days=self.rng.randint(0, 27))
        if day > H:
            return None
        if self.paused_until is not None:
            self._resume_if_due(day)
            return d
        bd = base.next_boundary(day)
        renewal_due = base.months == 12 and bd - day < MONTH and self.renewed_for != bd
        churn, inside = self._decide_churn(day, bd, renewal_due)
        if churn:
            return self._leave(d, day, bd, inside)
        if self.rng.random() < self.p.pause_p:
            self._pause(day)
        elif renewal_due:
            self._renew(day, bd)
        else:
            self._change(day, bd)
        return d

    def _hazard(self, day: dt.date) -> float:
        """Monthly churn hazard: the segment's base, scaled by the last 90 days of support
        (more tickets than usual, low CSAT, slow answers)."""
        recent = [t for t in self.tickets if 0 <= (day - t.day).days < 90]
        csats = [t.csat for t in recent if t.csat > 0]
        exp_n = self.a.profile.ticket_rate * 3
        f = math.exp(
            0.25 * (len(recent) - exp_n) / math.sqrt(exp_n + 1)
            + 0.7 * max(0.0, 3.6 - (sum(csats) / len(csats) if csats else 3.6))
            + 0.6 * (sum(t.slow for t in recent) / len(recent) if recent else 0.0)
        )
        return min(0.5, self.a.profile.churn_hazard * max(0.3, min(4.0, f)))

    def _decide_churn(self, day: dt.date, bd: dt.date, renewal_due: bool) -> tuple[bool, bool]:
        """(churns, inside the term): annual customers mostly leave at renewal, others at a
        period end or, one in five, right away."""
        rng, months = self.rng, self.base.months
        h = self._hazard(day)
        annual = months == 12
        if annual and not renewal_due:
            churn = rng.random() < h * 0.25  # rare mid-term termination
            inside = True
        else:
            hz = 1 - (1 - h) ** months if annual or months > 1 else h
            churn = rng.random() < hz
            inside = rng.random() < 0.2
        if months == 3 and bd - day > MONTH:
            churn = churn and rng.random() < 0.3
        return churn, inside

    def _leave(self, d: dt.date, day: dt.date, bd: dt.date, inside: bool) -> dt.date | None:
        """Cancel every active subscription and end the contract; maybe come back later."""
        cd = day if inside else bd
        rec_day = day if inside else max(d, bd - dt.timedelta(days=self.rng.randint(3, 25)))
        rec = ts(min(rec_day, cd), 11 * 3600)
        for s in [*self.base_subs, *(u for u, _ in self.usage_subs)]:
            if s.active:
                self.log.add(s, "cancel", cd, rec, self.contract.contract_id)
                s.active, s.ended = False, True
        self.crm.end_contract(self.contract, cd, "terminated" if inside else "expired")
        self.departures.append(cd)
        return self._come_back(cd)

    def _come_back(self, cd: dt.date) -> dt.date | None:
        """Reactivation months after leaving: a new deal, contract and subscriptions on the old
        terms; returns their start (None: gone for good)."""
        rng, H, deal = self.rng, self.p.horizon, self.deal
        if rng.random() >= self.p.reactivation_p:
            return None
        back = add_months(cd, rng.randint(3, 10)) + dt.timedelta(days=rng.randint(0, 20))
        if back > H:
            return None
        close = back - dt.timedelta(days=rng.randint(10, 25))
        oid = self.crm.opportunity(
            "new_business", close - dt.timedelta(days=20), close, deal.acv, True
        )
        self.contract = self.crm.contract(oid, close, deal.plan.billing_period_months, deal.acv)
        if self.contract.start > H:
            return None
        base = self.base
        self._open(self.contract.start, base.key, base.qty, base.price, close)
        return self.contract.start

    def _resume_if_due(self, day: dt.date) -> None:
        if day >= self.paused_until:
            self.log.add(self.base, "resume", day, ts(day, 9 * 3600), self.contract.contract_id)
            self.base.anchor, self.base.active, self.paused_until = day, True, None

    def _pause(self, day: dt.date) -> None:
        """Pause the base subscription; it resumes one to three months later."""
        if self.base.active:
            self.log.add(self.base, "pause", day, ts(day, 10 * 3600), self.contract.contract_id)
        self.base.active = False
        self.paused_until = add_months(day, self.rng.randint(1, 3))

    def _renew(self, day: dt.date, bd: dt.date) -> None:
        """An annual term renews at its boundary, often at a higher price, agreed in advance."""
        rng, base, ccy = self.rng, self.base, self.a.currency
        rec_d = bd - dt.timedelta(days=rng.randint(15, 40))
        cur = base.price or self.p.plans[plan_id(base.key, ccy)].unit_price
        if rng.random() < self.p.price_rise_p:
            places = "1" if ccy == "JPY" else "0.01"
            cur = q(cur * Decimal(str(1 + rng.choice((0.03, 0.05, 0.07, 0.08)))), places)
        rec = ts(max(rec_d, day - dt.timedelta(days=30)), 14 * 3600)
        self.log.add(base, "renew", bd, rec, self.contract.contract_id, base.key, base.qty, cur)
        base.price, self.renewed_for = cur, bd
        self.crm.opportunity(
            "renewal",
            rec_d - dt.timedelta(days=20),
            max(rec_d, self.first_start),
            q(cur * base.qty),
            True,
        )

    def _change(self, day: dt.date, bd: dt.date) -> None:
        """Now and then the customer adds or removes seats, or moves to another plan."""
        r = self.rng.random()
        exp_p = self.a.profile.expansion_p
        if self.base.key != "PLAT-TEAM-M" and r < exp_p + 0.02:
            self._resize(day, bd, expand=r < exp_p)
        elif r < exp_p + 0.035:
            self._move_plan(day, bd)

    def _resize(self, day: dt.date, bd: dt.date, expand: bool) -> None:
        """Seats up (an expansion opportunity) or down; not in a period's last days; some
        changes are recorded days after they took effect."""
        rng, base = self.rng, self.base
        factor = rng.uniform(1.1, 1.4) if expand else rng.uniform(0.7, 0.9)
        nq = Decimal(max(1, round(int(base.qty) * factor)))
        if nq == base.qty:
            nq = base.qty + 1
        if day == bd or bd - day < dt.timedelta(days=3):
            return
        backdated = rng.random() < 0.1 and (bd - day).days > 6
        rec_day = (
            day + dt.timedelta(days=rng.randint(1, min(5, (bd - day).days - 2)))
            if backdated
            else day - dt.timedelta(days=rng.randint(0, 2))
        )
        rec = ts(rec_day, 13 * 3600)
        self.log.add(base, "change", day, rec, self.contract.contract_id, base.key, nq, base.price)
        if expand:
            self.crm.opportunity(
                "expansion",
                day - dt.timedelta(days=25),
                day - dt.timedelta(days=2),
                q((nq - base.qty) * (base.price or self.deal.plan.unit_price)),
                True,
            )
        base.qty = nq

    def _move_plan(self, day: dt.date, bd: dt.date) -> None:
        """Upgrade/downgrade in the same period length, or monthly -> annual (re-anchored)."""
        rng, base = self.rng, self.base
        if base.key not in PLAN_MOVES or day == bd:
            return
        nk = rng.choice(PLAN_MOVES[base.key])
        if base.months == 12 and rng.random() < 0.7:  # annual customers mostly wait
            return
        nmonths = self._months(nk)
        nq = base.qty if base.key != "PLAT-TEAM-M" else Decimal(rng.randint(5, 12))
        self.log.add(
            base, "change", day, ts(day, 12 * 3600), self.contract.contract_id, nk, nq, None
        )
        base.key, base.qty, base.price = nk, nq, None
        if nmonths != base.months:
            base.anchor, base.months = day, nmonths
