"""Support: tickets over the customer's first years (poor health = more, slower, less happy) and
the paid onboarding project with its milestone charges."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from pipelines.generate.account import Account, AccountOut
from pipelines.generate.billing import Charge, add_months
from pipelines.generate.common import R, d2s, dec, plan_id, q, ts
from pipelines.generate.crm import Contract
from pipelines.generate.params import SLA_H, Params

PRIORITIES = (("low", 25), ("normal", 50), ("high", 18), ("urgent", 7))
CATEGORIES = (
    ("billing", 15),
    ("technical", 45),
    ("onboarding", 15),
    ("feature_request", 15),
    ("other", 10),
)


#: A leaving customer's complaints (`Support.before_leaving`): how likely, when (days before the
#: cancellation) and how much lower their CSAT.
LEAVING_COMPLAINT_P = 0.8
LEAVING_TICKETS = (1, 1, 2, 2, 3, 4)
LEAVING_WINDOW_DAYS = (20, 150)
LEAVING_MOOD = 1.8


class Ticket(NamedTuple):
    """What the churn decision remembers of a ticket (csat 0 = not rated)."""

    day: dt.date
    priority: str
    csat: float
    slow: bool


class _Project(NamedTuple):
    kickoff: dt.date
    target: dt.date
    go_live: dt.date | None  # None: stalled
    hours: Decimal
    versions: list[tuple[str, dt.date, dt.date | None, Decimal]]  # status, day, go-live, hours


class Support:
    """The account's support desk and implementation team."""

    def __init__(self, p: Params, a: Account, rng: random.Random, out: AccountOut):
        self.p, self.a, self.rng, self.out = p, a, rng, out
        self._tickets = 0

    # --- tickets ---------------------------------------------------------------------------------
    def tickets(self, start: dt.date) -> list[Ticket]:
        """Tickets of the first 48 months from `start` (monthly counts drawn at once)."""
        a, H = self.a, self.p.horizon
        rate = a.profile.ticket_rate * math.exp(-0.45 * a.health)
        slow_p = min(0.6, 0.1 * math.exp(-0.6 * a.health))
        counts = np.random.default_rng([self.p.seed, a.n, 7]).poisson(rate, size=48)
        res: list[Ticket] = []
        for m in range(48):
            mday = add_months(start, m)
            if mday > H:
                break
            for _ in range(int(counts[m])):
                day = mday + dt.timedelta(days=self.rng.randint(0, 27))
                if day <= H:
                    res.append(self._ticket(day, slow_p))
        return res

    def before_leaving(self, departures: list[dt.date]) -> None:
        """A customer on its way out disengages first: most raise a few unhappy, often slowly
        answered tickets in the five months before they cancel (docs/metrics.md M1). Drawn from
        the account's own stream for this, so no other row of the account moves."""
        if not departures:
            return
        rng = random.Random(f"{self.p.seed}-{self.a.n}-leaving")
        for cd in departures:
            if rng.random() >= LEAVING_COMPLAINT_P:
                continue
            for _ in range(rng.choice(LEAVING_TICKETS)):
                day = cd - dt.timedelta(days=rng.randint(*LEAVING_WINDOW_DAYS))
                if self.a.created <= day <= self.p.horizon:
                    self._ticket(day, 0.6, rng, mood=LEAVING_MOOD)

    def _ticket(
        self, day: dt.date, slow_p: float, rng: random.Random | None = None, mood: float = 0.0
    ) -> Ticket:
        """One ticket: new -> solved -> closed, answered within or far beyond its SLA; `mood`
        lowers the customer's rating."""
        rng = rng or self.rng
        self._tickets += 1
        tid = f"TCK-{self.a.n:07d}-{self._tickets:04d}"
        pr = rng.choices(*zip(*PRIORITIES, strict=True))[0]
        cat = rng.choices(*zip(*CATEGORIES, strict=True))[0]
        c0 = rng.randint(0, 86399)
        slow = rng.random() < slow_p
        resp_h = SLA_H[pr] * (rng.uniform(1.5, 6) if slow else rng.uniform(0.05, 0.9))
        fr = c0 + int(resp_h * 3600)
        solved = fr + int(rng.uniform(0.5, 72 if pr in ("low", "normal") else 24) * 3600)
        closed = solved + 3 * 86400
        mu = 4.3 + 0.5 * self.a.health - (0.8 if slow else 0) - mood
        csat = max(1, min(5, round(rng.gauss(mu, 0.8)))) if rng.random() < 0.6 else None
        mins = q(Decimal(str(round(rng.uniform(5, 90 if pr != "urgent" else 240), 1))), "0.1")
        base = dict(
            ticket_id=tid,
            account_id=self.a.account_id,
            created_at=ts(day, c0),
            priority=pr,
            category=cat,
        )
        solved_extra = {
            "first_response_at": ts(day, fr),
            "solved_at": ts(day, solved),
            "handle_minutes": dec(mins),
        }
        vers = [
            (c0, "new", {}),
            (solved, "solved", solved_extra),
            (closed, "closed", {"csat_score": None if csat is None else str(csat)}),
        ]
        acc: dict = {}
        for s, status, extra in vers:
            acc.update(extra)
            kd = day + dt.timedelta(days=s // 86400)
            if kd > self.p.horizon:
                break
            self.out.add(
                "support.tickets",
                R("support.tickets", kd, **base, **acc, status=status, updated_at=ts(day, s)),
            )
        return Ticket(day, pr, float(csat or 0), slow)

    def forget_after(self, gone: dt.date) -> None:
        """A lost customer stops raising tickets: drop those created after `gone`."""
        self.out.rows["support.tickets"] = [
            r for r in self.out.rows.get("support.tickets", []) if r[4][:10] <= gone.isoformat()
        ]

    # --- implementation project ------------------------------------------------------------------
    def implementation(self, c: Contract, close: dt.date) -> list[tuple[Charge, str]]:
        """Onboarding project (some late, some stalled) and its milestone charges, each with the
        contract it belongs to."""
        proj = self._plan_project(close, c.start)
        self._write_project(proj, c.contract_id)
        charges = self._milestones(proj)
        if self.rng.random() < 0.35:  # an outside contractor did the work (a vendor bill)
            hours_cost = (proj.kickoff, proj.go_live or proj.target, proj.hours, self.a.currency)
            self.out.stats["contractor"] = hours_cost
        return [(ch, c.contract_id) for ch in charges]

    def _plan_project(self, close: dt.date, start: dt.date) -> _Project:
        rng, seg = self.rng, self.a.segment
        kickoff = start + dt.timedelta(days=rng.randint(3, 20))
        dur = self.a.profile.implementation_days
        target = kickoff + dt.timedelta(days=dur)
        r = rng.random()
        fate = "stalled" if r < 0.08 else ("late" if r < 0.38 else "ontime")
        go = None
        if fate == "ontime":
            go = target + dt.timedelta(days=rng.randint(-10, 5))
        elif fate == "late":
            go = target + dt.timedelta(days=rng.randint(10, 90))
        hours = Decimal(rng.randint(20, 80) if seg != "enterprise" else rng.randint(120, 400))
        vers = [
            ("not_started", max(close, start - dt.timedelta(days=2)), None, Decimal(0)),
            ("in_progress", kickoff, None, q(hours * Decimal("0.1"))),
        ]
        if go is None:
            st = kickoff + dt.timedelta(days=dur // 2)
            vers.append(("stalled", st, None, q(hours * Decimal("0.4"))))
            if rng.random() < 0.4:
                vers.append(
                    ("cancelled", st + dt.timedelta(days=60), None, q(hours * Decimal("0.4")))
                )
        else:
            mid = kickoff + (go - kickoff) // 2
            vers.append(("in_progress", mid, None, q(hours * Decimal("0.5"))))
            vers.append(("live", go, go, hours))
        return _Project(kickoff, target, go, hours, vers)

    def _write_project(self, proj: _Project, contract_id: str) -> None:
        for k, (status, day, gl, hours) in enumerate(proj.versions):
            if day > self.p.horizon:
                break
            self.out.add(
                "support.implementations",
                R(
                    "support.implementations",
                    day,
                    implementation_id=f"IMP-{self.a.n:07d}-01",
                    account_id=self.a.account_id,
                    contract_id=contract_id,
                    status=status,
                    kickoff_date=d2s(proj.kickoff) if k else None,
                    target_go_live_date=d2s(proj.target),
                    go_live_date=d2s(gl),
                    hours_logged=dec(hours),
                    updated_at=ts(day, 17 * 3600 + k),
                ),
            )

    def _milestones(self, proj: _Project) -> list[Charge]:
        """40% at kickoff, the rest at go-live (enterprise sometimes at a discount)."""
        a = self.a
        key = "SVC-IMPL-ENT" if a.segment == "enterprise" else "SVC-IMPL-STD"
        pid = plan_id(key, a.currency)
        price = self.p.plans[pid].unit_price
        if a.segment == "enterprise" and self.rng.random() < 0.5:
            price = q(price * Decimal("0.85"), "1")
        first = q(price * Decimal("0.4"), "1" if a.currency == "JPY" else "0.01")
        ms = [(proj.kickoff, first)]
        if proj.go_live is not None:
            ms.append((proj.go_live, price - first))
        return [
            Charge(f"CHG-{a.n:07d}-{k:02d}", a.account_id, pid, amt, day, a.currency)
            for k, (day, amt) in enumerate(ms, 1)
        ]
