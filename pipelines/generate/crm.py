"""The CRM lifecycle: an account is created, an opportunity moves through its stages, a won deal
becomes a contract (draft -> pending approval -> approved -> active) that later ends."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from pipelines.contract.tables import SEGMENTS
from pipelines.generate.account import Account, AccountOut
from pipelines.generate.billing import Plan
from pipelines.generate.common import DAY, R, b2s, d2s, dec, plan_id, q, ts
from pipelines.generate.params import (
    COUNTRIES,
    FLAT_PLANS,
    INDUSTRIES,
    MANAGERS,
    NAME_A,
    NAME_B,
    NAME_C,
    REGION_W,
    REPS,
    Params,
    SegmentProfile,
)


def pick(rng: random.Random, pairs) -> str:
    """A key drawn from (key, weight) pairs."""
    keys, w = zip(*pairs, strict=True)
    return rng.choices(keys, weights=w)[0]


def created_day(p: Params, i: int) -> dt.date:
    """Account i's creation day: exponential growth (about 3x the rate at the end)."""
    span = (p.horizon - p.start).days
    g = math.log(3.0)
    u = (i + 0.5) / p.n_accounts
    x = math.log(1 + u * (math.exp(g) - 1)) / g
    return p.start + dt.timedelta(days=min(span, int(x * span)))


def _currency(rng: random.Random, region: str, country: str) -> str:
    """Local currency where we bill in it; some Asia-Pacific customers pay in yen."""
    ccy = {"GB": "GBP", "JP": "JPY"}.get(country, "EUR" if region == "emea" else "USD")
    if region == "apac" and country != "JP" and rng.random() < 0.2:
        ccy = "JPY"
    return ccy


def open_account(p: Params, i: int, rng: random.Random, out: AccountOut) -> Account:
    """Account i's firmographics, written as its crm.accounts row."""
    n = i + 1
    seg = rng.choices(SEGMENTS, weights=p.segment_weights())[0]
    region = pick(rng, REGION_W)
    country = rng.choice(COUNTRIES[region])
    ccy = _currency(rng, region, country)
    created = created_day(p, i)
    created_s = rng.randint(8 * 3600, 18 * 3600)
    parent = None
    if i > 0 and seg != "smb" and rng.random() < 0.06:
        parent = f"ACC-{n - rng.randint(1, min(i, 50)):07d}"
    health = rng.gauss(0, 1)
    name = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)} {rng.choice(NAME_C)} {n}"
    a = Account(n, f"ACC-{n:07d}", seg, p.segments[seg], region, country, ccy, created, health)
    out.add(
        "crm.accounts",
        R(
            "crm.accounts",
            created,
            account_id=a.account_id,
            account_name=name,
            segment=seg,
            industry=None if rng.random() < 0.05 else rng.choice(INDUSTRIES),
            region=region,
            country=country,
            currency=ccy,
            parent_account_id=parent,
            created_at=ts(created, created_s),
            updated_at=ts(created, created_s),
        ),
    )
    out.stats = {"segment": seg, "currency": ccy}
    return a


@dataclass(frozen=True)
class Deal:
    """The first sale as negotiated: base plan, seats, price (None = list), value a year."""

    key: str
    plan: Plan
    qty: Decimal
    price: Decimal | None
    acv: Decimal
    opened: dt.date
    close: dt.date
    won: bool


def _discount(rng: random.Random, prof: SegmentProfile, plan: Plan, ccy: str) -> Decimal | None:
    """A negotiated unit price below list, or None (list price)."""
    chance, least, most = prof.discount
    if rng.random() >= chance:
        return None
    places = "1" if ccy == "JPY" else "0.01"
    return q(plan.unit_price * Decimal(str(round(1 - rng.uniform(least, most), 3))), places)


def negotiate(p: Params, a: Account, rng: random.Random) -> Deal:
    """New business: sales cycle, outcome, plan (early customers may get the legacy plan),
    seats and discount."""
    prof = a.profile
    opened = a.created + dt.timedelta(days=rng.randint(0, 5))
    close = opened + dt.timedelta(days=rng.randint(*prof.sales_cycle_days))
    won = rng.random() < p.win_rate
    key = pick(rng, prof.plan_mix)
    early = a.created < p.start + dt.timedelta(days=p.legacy_window_days)
    if early and key == "PLAT-CORE-M" and rng.random() < p.legacy_p:
        key = "PLAT-LEGACY-M"
    plan = p.plans[plan_id(key, a.currency)]
    qty = Decimal(1 if key in FLAT_PLANS else rng.randint(*prof.seats))
    price = _discount(rng, prof, plan, a.currency)
    acv = q((price or plan.unit_price) * qty * 12 / plan.billing_period_months)
    return Deal(key, plan, qty, price, acv, opened, close, won)


@dataclass(frozen=True)
class Contract:
    contract_id: str
    start: dt.date
    row: dict  # values of its active version


class Crm:
    """The account's opportunities and contracts, each a sequence of dated versions."""

    def __init__(self, a: Account, rng: random.Random, out: AccountOut):
        self.a, self.rng, self.out = a, rng, out
        self._opportunities = 0
        self._contracts = 0

    def close_deal(self, deal: Deal, horizon: dt.date) -> Contract | None:
        """The new-business opportunity and, if won, its contract; None when no contract
        starts by the horizon."""
        if deal.close > horizon:
            if deal.opened <= horizon:
                self.opportunity("new_business", deal.opened, deal.close, deal.acv, deal.won)
            return None
        oid = self.opportunity("new_business", deal.opened, deal.close, deal.acv, deal.won)
        if not deal.won:
            return None
        c = self.contract(oid, deal.close, deal.plan.billing_period_months, deal.acv)
        return c if c.start <= horizon else None

    def opportunity(
        self, otype: str, created_d: dt.date, close_d: dt.date, amount: Decimal, won: bool
    ) -> str:
        """Open stages spread over the sales cycle, then closed won or lost; returns its id."""
        rng = self.rng
        self._opportunities += 1
        oid = f"OPP-{self.a.n:07d}-{self._opportunities:03d}"
        cs = ts(created_d, rng.randint(9 * 3600, 17 * 3600))
        stages = ["prospecting", "proposal", "negotiation"]
        span = max(1, (close_d - created_d).days)
        for k, st in enumerate(stages[: 1 + rng.randint(0, 2)]):
            d = created_d + dt.timedelta(days=span * k // 3)
            updated = cs if k == 0 else ts(d, 17 * 3600 + 1800 + k)
            self._opportunity_row(d, oid, otype, st, amount, close_d, cs, updated)
        stage = "closed_won" if won else "closed_lost"
        updated = ts(close_d, 18 * 3600 + rng.randint(0, 3000))
        self._opportunity_row(close_d, oid, otype, stage, amount, close_d, cs, updated)
        return oid

    def _opportunity_row(
        self,
        day: dt.date,
        oid: str,
        otype: str,
        stage: str,
        amount: Decimal,
        close_d: dt.date,
        created_at: str,
        updated_at: str,
    ) -> None:
        self.out.add(
            "crm.opportunities",
            R(
                "crm.opportunities",
                day,
                opportunity_id=oid,
                account_id=self.a.account_id,
                opportunity_type=otype,
                stage=stage,
                amount=dec(amount),
                currency=self.a.currency,
                close_date=d2s(close_d),
                created_at=created_at,
                updated_at=updated_at,
            ),
        )

    def contract(self, opp: str | None, close_d: dt.date, months: int, tcv: Decimal) -> Contract:
        """Draft -> pending_approval -> approved -> active; some approvals are slow, a few are
        approved by their own creator (a governance breach)."""
        rng = self.rng
        self._contracts += 1
        cid = f"CON-{self.a.n:07d}-{self._contracts:02d}"
        creator = rng.choice(REPS)
        approver = creator if rng.random() < 0.02 else rng.choice(MANAGERS)
        t0 = rng.randint(9 * 3600, 17 * 3600)
        sub_s = t0 + rng.randint(600, 30 * 3600)
        slow = rng.random() < 0.12
        appr_s = sub_s + int(rng.uniform(5, 20) * 86400 if slow else rng.uniform(0.05, 2) * 86400)
        sign_s = appr_s + int(rng.uniform(0.1, 5) * 86400)
        start = close_d + dt.timedelta(days=(sign_s // 86400) + rng.randint(0, 5))
        base = dict(
            contract_id=cid,
            account_id=self.a.account_id,
            opportunity_id=opp,
            start_date=d2s(start),
            end_date=None,
            term_months=str(months),
            auto_renew=b2s(True),
            total_contract_value=dec(tcv),
            currency=self.a.currency,
            created_by=creator,
        )
        vers = [
            ("draft", t0, {}),
            ("pending_approval", sub_s, {"submitted_at": ts(close_d, sub_s)}),
            ("approved", appr_s, {"approved_by": approver, "approved_at": ts(close_d, appr_s)}),
            ("active", sign_s, {"signed_at": ts(close_d, sign_s)}),
        ]
        acc: dict = {}
        row: dict = {}
        for st, s, extra in vers:
            acc.update(extra)
            row = dict(base, status=st, **acc, updated_at=ts(close_d, s))
            self.out.add(
                "crm.contracts", R("crm.contracts", close_d + dt.timedelta(days=s // 86400), **row)
            )
        return Contract(cid, start, row)

    def end_contract(self, c: Contract, d: dt.date, status: str) -> None:
        """The contract ends on d (terminated or expired), recorded up to ten days before."""
        rec = d - dt.timedelta(days=self.rng.randint(0, 10))
        rec = max(rec, dt.date.fromisoformat(c.row["updated_at"][:10]) + DAY)
        self.out.add(
            "crm.contracts",
            R(
                "crm.contracts",
                rec,
                **dict(c.row, status=status, end_date=d2s(d), updated_at=ts(rec, 15 * 3600 + 1)),
            ),
        )
