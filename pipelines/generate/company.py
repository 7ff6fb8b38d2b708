"""The simulated company, one account at a time: CRM, subscription lives, usage, support,
implementations, and the billing system (R3 lines -> injected exceptions -> invoices, payments,
credit notes). Every account draws from its own seeded generator, so an account's rows do not
depend on how accounts are chunked."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

import numpy as np

from pipelines.contract import TABLES
from pipelines.contract.tables import SEGMENTS
from pipelines.generate.billing import (
    Charge,
    Event,
    Line,
    Plan,
    add_months,
    compute_lines,
    money,
)
from pipelines.generate.common import EPOCH_ORD, FAMILY, FX_LEVEL, b2s, d2s, dec, plan_id, q, ts

DAY = dt.timedelta(days=1)
COLS = {t.qualified_name: t.column_names for t in TABLES}

REGION_W = (("na", 0.45), ("emea", 0.30), ("apac", 0.15), ("latam", 0.10))
COUNTRIES = {
    "na": ("US", "US", "US", "CA"),
    "emea": ("DE", "FR", "NL", "GB", "GB", "ES", "IE"),
    "apac": ("JP", "JP", "AU", "SG", "IN"),
    "latam": ("BR", "MX", "AR", "CL"),
}
INDUSTRIES = (
    "software",
    "retail",
    "fintech",
    "healthcare",
    "media",
    "logistics",
    "education",
    "manufacturing",
    "travel",
    "public_sector",
)
NAME_A = (
    "Blue",
    "North",
    "Silver",
    "Bright",
    "Quiet",
    "Rapid",
    "Golden",
    "Iron",
    "Clear",
    "Red",
    "Open",
    "Prime",
    "Lunar",
    "Solar",
    "Cedar",
    "Harbor",
    "Summit",
    "Vector",
    "Nimbus",
    "Atlas",
)
NAME_B = (
    "River",
    "Peak",
    "Stone",
    "Field",
    "Bridge",
    "Wave",
    "Forge",
    "Leaf",
    "Signal",
    "Works",
    "Labs",
    "Systems",
    "Dynamics",
    "Logic",
    "Cloud",
    "Metrics",
    "Foods",
    "Health",
    "Motors",
    "Media",
)
NAME_C = ("Inc", "Ltd", "GmbH", "SAS", "BV", "KK", "LLC", "Group", "Co", "SA")
REPS = tuple(f"rep{i:02d}@subops.example" for i in range(1, 25))
MANAGERS = (
    "mgr.alvarez@subops.example",
    "mgr.chen@subops.example",
    "mgr.okafor@subops.example",
    "mgr.schmidt@subops.example",
)
# base plan mix by segment: (product key, weight)
BASE_MIX = {
    "smb": (("PLAT-CORE-M", 50), ("PLAT-TEAM-M", 20), ("PLAT-CORE-Q", 12), ("PLAT-CORE-A", 18)),
    "mid_market": (
        ("PLAT-CORE-A", 40),
        ("PLAT-PRO-M", 20),
        ("PLAT-CORE-M", 15),
        ("PLAT-PRO-A", 25),
    ),
    "enterprise": (("PLAT-PRO-A", 70), ("PLAT-CORE-A", 20), ("PLAT-PRO-M", 10)),
}
SEATS = {"smb": (2, 15), "mid_market": (15, 80), "enterprise": (80, 500)}
BASE_HAZARD = {"smb": 0.022, "mid_market": 0.012, "enterprise": 0.006}
TICKET_RATE = {"smb": 0.35, "mid_market": 0.9, "enterprise": 2.2}
USAGE_P = {"smb": 0.35, "mid_market": 0.55, "enterprise": 0.7}
IMPL_P = {"smb": 0.05, "mid_market": 0.5, "enterprise": 0.9}
# usage metric -> (product key, mean daily units by segment)
USAGE = {
    "api_calls": ("PAY-API-U", {"smb": 900, "mid_market": 6000, "enterprise": 40000}),
    "transactions": ("PAY-TXN-U", {"smb": 25, "mid_market": 150, "enterprise": 900}),
    "queries": ("ANLT-QRY-U", {"smb": 4000, "mid_market": 30000, "enterprise": 200000}),
}
SLA_H = {"urgent": 1, "high": 4, "normal": 24, "low": 72}
TAX = {
    "GB": Decimal("0.20"),
    "DE": Decimal("0.19"),
    "FR": Decimal("0.20"),
    "NL": Decimal("0.21"),
    "ES": Decimal("0.21"),
    "IE": Decimal("0.23"),
}


FX_USD = {"USD": Decimal(1), **FX_LEVEL}


def R(table: str, known: dt.date, **kw: object) -> tuple:
    """A row: (known day, key, values in contract column order). Values are text or None."""
    cols = COLS[table]
    return (known, kw[cols[0]], *(kw.get(c) for c in cols))


@dataclass
class Ctx:
    seed: int
    start: dt.date
    end: dt.date
    horizon: dt.date  # last simulated day (end + daily)
    n_accounts: int
    exception_rate: float
    plans: dict[str, Plan]


@dataclass
class AccountOut:
    rows: dict[str, list[tuple]] = field(default_factory=dict)
    usage: list[dict] = field(default_factory=list)  # column arrays per usage subscription
    exceptions: list[tuple] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def add(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)


def created_day(ctx: Ctx, i: int) -> dt.date:
    """Account i's creation day: exponential growth (about 3x the rate at the end)."""
    span = (ctx.horizon - ctx.start).days
    g = math.log(3.0)
    u = (i + 0.5) / ctx.n_accounts
    x = math.log(1 + u * (math.exp(g) - 1)) / g
    return ctx.start + dt.timedelta(days=min(span, int(x * span)))


def _pick(rng: random.Random, pairs) -> str:
    keys, w = zip(*pairs, strict=True)
    return rng.choices(keys, weights=w)[0]


class _Sub:
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


def simulate_account(ctx: Ctx, i: int) -> AccountOut:
    rng = random.Random(ctx.seed * 1_000_003 + i)
    out = AccountOut()
    H = ctx.horizon
    acct = f"ACC-{i + 1:07d}"
    n = i + 1
    seg = rng.choices(SEGMENTS, weights=(60, 30, 10))[0]
    region = _pick(rng, REGION_W)
    country = rng.choice(COUNTRIES[region])
    ccy = {"GB": "GBP", "JP": "JPY"}.get(country, "EUR" if region == "emea" else "USD")
    if region == "apac" and country != "JP" and rng.random() < 0.2:
        ccy = "JPY"
    created = created_day(ctx, i)
    created_s = rng.randint(8 * 3600, 18 * 3600)
    parent = None
    if i > 0 and seg != "smb" and rng.random() < 0.06:
        parent = f"ACC-{i + 1 - rng.randint(1, min(i, 50)):07d}"
    health = rng.gauss(0, 1)  # latent: poor health -> more tickets, lower CSAT, more churn
    name = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)} {rng.choice(NAME_C)} {n}"
    out.add(
        "crm.accounts",
        R(
            "crm.accounts",
            created,
            account_id=acct,
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

    events: list[Event] = []
    ev_n = 0
    charges: list[Charge] = []
    counters = {"sub": 0, "con": 0, "opp": 0, "tck": 0}

    def nid(kind: str) -> int:
        counters[kind] += 1
        return counters[kind]

    def event(
        sub: _Sub,
        etype: str,
        d: dt.date,
        rec: str,
        contract: str | None,
        key: str | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> None:
        nonlocal ev_n
        ev_n += 1
        pid = plan_id(key, ccy) if key else None
        events.append(
            Event(f"EVT-{n:07d}-{ev_n:04d}", sub.sid, acct, etype, d, rec, pid, qty, price, ccy)
        )
        event_contract[events[-1].event_id] = contract

    event_contract: dict[str, str | None] = {}

    def opportunity(
        otype: str, created_d: dt.date, close_d: dt.date, amount: Decimal, won: bool
    ) -> str:
        oid = f"OPP-{n:07d}-{nid('opp'):03d}"
        cs = ts(created_d, rng.randint(9 * 3600, 17 * 3600))
        stages = ["prospecting", "proposal", "negotiation"]
        span = max(1, (close_d - created_d).days)
        for k, st in enumerate(stages[: 1 + rng.randint(0, 2)]):
            d = created_d + dt.timedelta(days=span * k // 3)
            out.add(
                "crm.opportunities",
                R(
                    "crm.opportunities",
                    d,
                    opportunity_id=oid,
                    account_id=acct,
                    opportunity_type=otype,
                    stage=st,
                    amount=dec(amount),
                    currency=ccy,
                    close_date=d2s(close_d),
                    created_at=cs,
                    updated_at=cs if k == 0 else ts(d, 17 * 3600 + 1800 + k),
                ),
            )
        out.add(
            "crm.opportunities",
            R(
                "crm.opportunities",
                close_d,
                opportunity_id=oid,
                account_id=acct,
                opportunity_type=otype,
                stage="closed_won" if won else "closed_lost",
                amount=dec(amount),
                currency=ccy,
                close_date=d2s(close_d),
                created_at=cs,
                updated_at=ts(close_d, 18 * 3600 + rng.randint(0, 3000)),
            ),
        )
        return oid

    def contract(
        opp: str | None, close_d: dt.date, months: int, tcv: Decimal
    ) -> tuple[str, dt.date, list]:
        """Draft -> pending_approval -> approved -> active; returns (id, start date, versions)."""
        cid = f"CON-{n:07d}-{nid('con'):02d}"
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
            account_id=acct,
            opportunity_id=opp,
            start_date=d2s(start),
            end_date=None,
            term_months=str(months),
            auto_renew=b2s(True),
            total_contract_value=dec(tcv),
            currency=ccy,
            created_by=creator,
        )
        vers = [
            ("draft", t0, {}),
            ("pending_approval", sub_s, {"submitted_at": ts(close_d, sub_s)}),
            ("approved", appr_s, {"approved_by": approver, "approved_at": ts(close_d, appr_s)}),
            ("active", sign_s, {"signed_at": ts(close_d, sign_s)}),
        ]
        acc: dict = {}
        rows = []
        for st, s, extra in vers:
            acc.update(extra)
            rows.append(dict(base, status=st, **acc, updated_at=ts(close_d, s)))
            out.add(
                "crm.contracts",
                R("crm.contracts", close_d + dt.timedelta(days=s // 86400), **rows[-1]),
            )
        return cid, start, rows[-1]

    def end_contract(crow: dict, d: dt.date, status: str) -> None:
        rec = d - dt.timedelta(days=rng.randint(0, 10))
        rec = max(rec, dt.date.fromisoformat(crow["updated_at"][:10]) + DAY)
        out.add(
            "crm.contracts",
            R(
                "crm.contracts",
                rec,
                **dict(crow, status=status, end_date=d2s(d), updated_at=ts(rec, 15 * 3600 + 1)),
            ),
        )

    # --- sales: new business -------------------------------------------------------------------
    opp_created = created + dt.timedelta(days=rng.randint(0, 5))
    cycle = {"smb": (7, 30), "mid_market": (20, 60), "enterprise": (45, 120)}[seg]
    close = opp_created + dt.timedelta(days=rng.randint(*cycle))
    won = rng.random() < 0.8
    key = _pick(rng, BASE_MIX[seg])
    if created < ctx.start + dt.timedelta(days=90) and key == "PLAT-CORE-M" and rng.random() < 0.4:
        key = "PLAT-LEGACY-M"
    plan = ctx.plans[plan_id(key, ccy)]
    flat = key in ("PLAT-TEAM-M", "ANLT-SUITE-Q", "ANLT-SUITE-A")
    qty = Decimal(1 if flat else rng.randint(*SEATS[seg]))
    disc = {
        "smb": (0.1, 0.05, 0.10),
        "mid_market": (0.5, 0.05, 0.15),
        "enterprise": (0.9, 0.10, 0.25),
    }[seg]
    price = None
    if rng.random() < disc[0]:
        places = "1" if ccy == "JPY" else "0.01"
        price = q(
            plan.unit_price * Decimal(str(round(1 - rng.uniform(disc[1], disc[2]), 3))), places
        )
    acv = q((price or plan.unit_price) * qty * 12 / plan.billing_period_months)
    if close > H:
        opportunity("new_business", opp_created, close, acv, won) if opp_created <= H else None
        return out
    oid = opportunity("new_business", opp_created, close, acv, won)
    if not won:
        return out
    cid, start, crow = contract(oid, close, plan.billing_period_months, acv)
    if start > H:
        return out

    c_contract: dict[str, str] = {}
    # --- implementation project ----------------------------------------------------------------
    if rng.random() < IMPL_P[seg]:
        c_contract = _implementation(ctx, rng, out, acct, n, ccy, seg, cid, close, start, charges)

    # --- subscription lives ----------------------------------------------------------------------
    tickets: list[tuple[dt.date, int, float, bool]] = []  # (day, priority rank, csat, slow)
    _tickets(ctx, rng, out, acct, n, seg, health, start, H, tickets, counters)

    def new_subs(
        d: dt.date, key: str, qty: Decimal, price: Decimal | None, cid: str, not_before: dt.date
    ) -> list[_Sub]:
        subs = []
        sid = f"SUB-{n:07d}-{nid('sub'):02d}"
        rec_d = max(d - dt.timedelta(days=rng.randint(0, 3)), not_before)
        rec = ts(rec_d, rng.randint(8 * 3600, 20 * 3600)) if rec_d < d else ts(d, 7 * 3600)
        sub = _Sub(sid, key, qty, price, d, ctx.plans[plan_id(key, ccy)].billing_period_months)
        event(sub, "activate", d, rec, cid, key, qty, price)
        subs.append(sub)
        if seg != "smb" and rng.random() < 0.15:
            k2 = "ANLT-SUITE-A" if rng.random() < 0.5 else "ANLT-SUITE-Q"
            s2 = _Sub(
                f"SUB-{n:07d}-{nid('sub'):02d}",
                k2,
                Decimal(1),
                None,
                d,
                ctx.plans[plan_id(k2, ccy)].billing_period_months,
            )
            event(s2, "activate", d, rec, cid, k2, Decimal(1))
            subs.append(s2)
        return subs

    def new_usage(d: dt.date, cid: str) -> list[tuple[_Sub, str]]:
        res = []
        if rng.random() < USAGE_P[seg]:
            metrics = ["api_calls"] if rng.random() < 0.5 else [rng.choice(list(USAGE))]
            if seg == "enterprise" and rng.random() < 0.3:
                metrics = ["api_calls", "queries"]
            for m in metrics:
                k = USAGE[m][0]
                s = _Sub(f"SUB-{n:07d}-{nid('sub'):02d}", k, Decimal(1), None, d, None)
                price = None
                if seg == "enterprise" and rng.random() < 0.5:
                    lp = ctx.plans[plan_id(k, ccy)].unit_price
                    price = q(lp * Decimal("0.8"), "0.0001")
                event(s, "activate", d, ts(d, 7 * 3600), cid, k, Decimal(1), price)
                res.append((s, m))
        return res

    base_subs = new_subs(start, key, qty, price, cid, close)
    usage_subs = new_usage(start, cid)
    usage_all = list(usage_subs)
    d = start
    base = base_subs[0]
    paused_until: dt.date | None = None
    renewed_for: dt.date | None = None
    while True:
        d = add_months(d, 1)
        if d > H:
            break
        if not base.active and base.ended:
            break
        # decision day inside this month
        day = d + dt.timedelta(days=rng.randint(0, 27))
        if day > H:
            break
        if paused_until is not None:
            if day >= paused_until:
                rec = ts(day, 9 * 3600)
                event(base, "resume", day, rec, cid)
                base.anchor, base.active, paused_until = day, True, None
            continue
        # support experience of the last 90 days drives the churn hazard
        recent = [t for t in tickets if 0 <= (day - t[0]).days < 90]
        csats = [t[2] for t in recent if t[2] > 0]
        exp_n = TICKET_RATE[seg] * 3
        f = math.exp(
            0.25 * (len(recent) - exp_n) / math.sqrt(exp_n + 1)
            + 0.7 * max(0.0, 3.6 - (sum(csats) / len(csats) if csats else 3.6))
            + 0.6 * (sum(t[3] for t in recent) / len(recent) if recent else 0.0)
        )
        h = min(0.5, BASE_HAZARD[seg] * max(0.3, min(4.0, f)))
        bd = base.next_boundary(day)
        annual = base.months == 12
        renewal_due = annual and bd - day < dt.timedelta(days=31) and renewed_for != bd
        if annual and not renewal_due:
            churn = rng.random() < h * 0.25  # rare mid-term termination
            inside = True
        else:
            hz = 1 - (1 - h) ** base.months if annual or base.months > 1 else h
            churn = rng.random() < (hz if (not annual or renewal_due) else 0)
            inside = rng.random() < 0.2
        if base.months == 3 and bd - day > dt.timedelta(days=31):
            churn = churn and rng.random() < 0.3
        if churn:
            cd = day if inside else bd
            rec_day = day if inside else max(d, bd - dt.timedelta(days=rng.randint(3, 25)))
            rec_day = min(rec_day, cd)
            rec = ts(rec_day, 11 * 3600)
            for s in [*base_subs, *(u for u, _ in usage_subs)]:
                if s.active:
                    event(s, "cancel", cd, rec, cid)
                    s.active, s.ended = False, True
            end_contract(crow, cd, "terminated" if inside else "expired")
            # reactivation months later (new subscription and contract)
            if rng.random() < 0.18:
                back = add_months(cd, rng.randint(3, 10)) + dt.timedelta(days=rng.randint(0, 20))
                if back <= H:
                    close2 = back - dt.timedelta(days=rng.randint(10, 25))
                    oid2 = opportunity(
                        "new_business", close2 - dt.timedelta(days=20), close2, acv, True
                    )
                    cid, start2, crow = contract(oid2, close2, plan.billing_period_months, acv)
                    if start2 <= H:
                        base_subs = new_subs(start2, base.key, base.qty, base.price, cid, close2)
                        base = base_subs[0]
                        usage_subs = new_usage(start2, cid)
                        usage_all += usage_subs
                        d = start2
                        continue
            break
        if rng.random() < 0.004:  # pause, resume 1-3 months later
            rec = ts(day, 10 * 3600)
            for s in base_subs:
                if s.active and s is base:
                    event(s, "pause", day, rec, cid)
            base.active = False
            paused_until = add_months(day, rng.randint(1, 3))
            continue
        if renewal_due:
            rd = bd
            rec_d = rd - dt.timedelta(days=rng.randint(15, 40))
            lp = ctx.plans[plan_id(base.key, ccy)].unit_price
            cur = base.price or lp
            if rng.random() < 0.6:
                places = "1" if ccy == "JPY" else "0.01"
                cur = q(cur * Decimal(str(1 + rng.choice((0.03, 0.05, 0.07, 0.08)))), places)
            event(
                base,
                "renew",
                rd,
                ts(max(rec_d, day - dt.timedelta(days=30)), 14 * 3600),
                cid,
                base.key,
                base.qty,
                cur,
            )
            base.price, renewed_for = cur, rd
            opportunity(
                "renewal", rec_d - dt.timedelta(days=20), max(rec_d, start), q(cur * base.qty), True
            )
            continue
        flat = base.key in ("PLAT-TEAM-M",)
        r = rng.random()
        exp_p = {"smb": 0.03, "mid_market": 0.05, "enterprise": 0.06}[seg]
        if not flat and r < exp_p + 0.02:
            expand = r < exp_p
            factor = rng.uniform(1.1, 1.4) if expand else rng.uniform(0.7, 0.9)
            nq = Decimal(max(1, round(int(base.qty) * factor)))
            if nq == base.qty:
                nq = base.qty + 1
            if day == bd or bd - day < dt.timedelta(days=3):
                continue
            backdated = rng.random() < 0.1 and (bd - day).days > 6
            rec_day = (
                day + dt.timedelta(days=rng.randint(1, min(5, (bd - day).days - 2)))
                if backdated
                else day - dt.timedelta(days=rng.randint(0, 2))
            )
            event(base, "change", day, ts(rec_day, 13 * 3600), cid, base.key, nq, base.price)
            if expand:
                opportunity(
                    "expansion",
                    day - dt.timedelta(days=25),
                    day - dt.timedelta(days=2),
                    q((nq - base.qty) * (base.price or plan.unit_price)),
                    True,
                )
            base.qty = nq
        elif r < exp_p + 0.035:
            # plan moves: upgrade/downgrade in the same period length, or monthly -> annual
            moves = {
                "PLAT-CORE-M": ("PLAT-PRO-M", "PLAT-CORE-A"),
                "PLAT-PRO-M": ("PLAT-CORE-M", "PLAT-PRO-A"),
                "PLAT-CORE-A": ("PLAT-PRO-A",),
                "PLAT-PRO-A": ("PLAT-CORE-A",),
                "PLAT-LEGACY-M": ("PLAT-CORE-M",),
                "PLAT-TEAM-M": ("PLAT-CORE-M",),
            }
            if base.key not in moves or day == bd:
                continue
            nk = rng.choice(moves[base.key])
            if base.months == 12 and not renewal_due and rng.random() < 0.7:
                continue
            nmonths = ctx.plans[plan_id(nk, ccy)].billing_period_months
            nq = base.qty if base.key != "PLAT-TEAM-M" else Decimal(rng.randint(5, 12))
            event(base, "change", day, ts(day, 12 * 3600), cid, nk, nq, None)
            base.key, base.qty, base.price = nk, nq, None
            if nmonths != base.months:
                base.anchor, base.months = day, nmonths
    if base.ended:  # a lost customer stops raising tickets a month after leaving
        gone = max(e.effective_date for e in events if e.event_type == "cancel") + 30 * DAY
        out.rows["support.tickets"] = [
            r for r in out.rows.get("support.tickets", []) if r[4][:10] <= gone.isoformat()
        ]

    # --- usage, then the billing system ----------------------------------------------------------
    kept = [e for e in events if e.recorded_at[:10] <= H.isoformat()]
    usage_totals = _usage(ctx, rng, out, acct, n, seg, kept, usage_all)
    for e in kept:
        out.add(
            "billing.subscription_events",
            R(
                "billing.subscription_events",
                dt.date.fromisoformat(e.recorded_at[:10]),
                event_id=e.event_id,
                subscription_id=e.subscription_id,
                account_id=acct,
                contract_id=event_contract[e.event_id],
                event_type=e.event_type,
                effective_date=d2s(e.effective_date),
                plan_id=e.plan_id,
                quantity=dec(e.quantity),
                unit_price=dec(e.unit_price),
                currency=ccy,
                recorded_at=e.recorded_at,
            ),
        )
    for c in charges:
        if c.milestone_date <= H:
            out.add(
                "billing.one_time_charges",
                R(
                    "billing.one_time_charges",
                    c.milestone_date,
                    charge_id=c.charge_id,
                    account_id=acct,
                    contract_id=c_contract.get(c.charge_id, cid),
                    plan_id=c.plan_id,
                    description="Implementation milestone",
                    amount=dec(c.amount),
                    currency=ccy,
                    milestone_date=d2s(c.milestone_date),
                ),
            )
    lines = compute_lines(
        kept, ctx.plans, usage_totals, [c for c in charges if c.milestone_date <= H], H
    )
    known = {e.event_id: dt.date.fromisoformat(e.recorded_at[:10]) for e in kept}
    _bill(ctx, rng, out, acct, n, ccy, seg, country, lines, known)
    return out


def _implementation(
    ctx: Ctx,
    rng: random.Random,
    out: AccountOut,
    acct: str,
    n: int,
    ccy: str,
    seg: str,
    cid: str,
    close: dt.date,
    start: dt.date,
    charges: list[Charge],
) -> dict[str, str]:
    """Onboarding project (some late, some stalled) and its milestone charges."""
    c_contract: dict[str, str] = {}
    H = ctx.horizon
    iid = f"IMP-{n:07d}-01"
    kickoff = start + dt.timedelta(days=rng.randint(3, 20))
    dur = {"smb": 30, "mid_market": 60, "enterprise": 120}[seg]
    target = kickoff + dt.timedelta(days=dur)
    r = rng.random()
    fate = "stalled" if r < 0.08 else ("late" if r < 0.38 else "ontime")
    go = None
    if fate == "ontime":
        go = target + dt.timedelta(days=rng.randint(-10, 5))
    elif fate == "late":
        go = target + dt.timedelta(days=rng.randint(10, 90))
    hours_total = Decimal(rng.randint(20, 80) if seg != "enterprise" else rng.randint(120, 400))
    vers = [
        ("not_started", max(close, start - dt.timedelta(days=2)), None, Decimal(0)),
        ("in_progress", kickoff, None, q(hours_total * Decimal("0.1"))),
    ]
    if fate == "stalled":
        st = kickoff + dt.timedelta(days=dur // 2)
        vers.append(("stalled", st, None, q(hours_total * Decimal("0.4"))))
        if rng.random() < 0.4:
            vers.append(
                ("cancelled", st + dt.timedelta(days=60), None, q(hours_total * Decimal("0.4")))
            )
    else:
        mid = kickoff + (go - kickoff) // 2
        vers.append(("in_progress", mid, None, q(hours_total * Decimal("0.5"))))
        vers.append(("live", go, go, hours_total))
    for k, (status, day, gl, hours) in enumerate(vers):
        if day > H:
            break
        out.add(
            "support.implementations",
            R(
                "support.implementations",
                day,
                implementation_id=iid,
                account_id=acct,
                contract_id=cid,
                status=status,
                kickoff_date=d2s(kickoff) if k else None,
                target_go_live_date=d2s(target),
                go_live_date=d2s(gl),
                hours_logged=dec(hours),
                updated_at=ts(day, 17 * 3600 + k),
            ),
        )
    key = "SVC-IMPL-ENT" if seg == "enterprise" else "SVC-IMPL-STD"
    pid = plan_id(key, ccy)
    price = ctx.plans[pid].unit_price
    if seg == "enterprise" and rng.random() < 0.5:
        price = q(price * Decimal("0.85"), "1")
    first = q(price * Decimal("0.4"), "1" if ccy == "JPY" else "0.01")
    ms = [(kickoff, first)]
    if go is not None:
        ms.append((go, price - first))
    for k, (day, amt) in enumerate(ms, 1):
        chg = f"CHG-{n:07d}-{k:02d}"
        charges.append(Charge(chg, acct, pid, amt, day, ccy))
        c_contract[chg] = cid
    if rng.random() < 0.35:
        out.stats["contractor"] = (kickoff, go or target, hours_total, ccy)
    return c_contract


def _tickets(
    ctx: Ctx,
    rng: random.Random,
    out: AccountOut,
    acct: str,
    n: int,
    seg: str,
    health: float,
    start: dt.date,
    H: dt.date,
    tickets: list,
    counters: dict,
) -> None:
    """Tickets over the customer's first years; poor health = more, slower, less happy."""
    rate = TICKET_RATE[seg] * math.exp(-0.45 * health)
    slow_p = min(0.6, 0.1 * math.exp(-0.6 * health))
    day = start
    nr = np.random.default_rng([ctx.seed, n, 7])
    counts = nr.poisson(rate, size=48)
    for m in range(48):
        mday = add_months(start, m)
        if mday > H:
            break
        for _ in range(int(counts[m])):
            day = mday + dt.timedelta(days=rng.randint(0, 27))
            if day > H:
                continue
            counters["tck"] += 1
            tid = f"TCK-{n:07d}-{counters['tck']:04d}"
            pr = rng.choices(("low", "normal", "high", "urgent"), weights=(25, 50, 18, 7))[0]
            cat = rng.choices(
                ("billing", "technical", "onboarding", "feature_request", "other"),
                weights=(15, 45, 15, 15, 10),
            )[0]
            c0 = rng.randint(0, 86399)
            slow = rng.random() < slow_p
            resp_h = SLA_H[pr] * (rng.uniform(1.5, 6) if slow else rng.uniform(0.05, 0.9))
            fr = c0 + int(resp_h * 3600)
            solved = fr + int(rng.uniform(0.5, 72 if pr in ("low", "normal") else 24) * 3600)
            closed = solved + 3 * 86400
            mu = 4.3 + 0.5 * health - (0.8 if slow else 0)
            csat = max(1, min(5, round(rng.gauss(mu, 0.8)))) if rng.random() < 0.6 else None
            mins = q(Decimal(str(round(rng.uniform(5, 90 if pr != "urgent" else 240), 1))), "0.1")
            base = dict(
                ticket_id=tid, account_id=acct, created_at=ts(day, c0), priority=pr, category=cat
            )
            vers = [
                (c0, "new", {}),
                (
                    solved,
                    "solved",
                    {
                        "first_response_at": ts(day, fr),
                        "solved_at": ts(day, solved),
                        "handle_minutes": dec(mins),
                    },
                ),
                (closed, "closed", {"csat_score": None if csat is None else str(csat)}),
            ]
            acc: dict = {}
            for s, status, extra in vers:
                acc.update(extra)
                kd = day + dt.timedelta(days=s // 86400)
                if kd > H:
                    break
                out.add(
                    "support.tickets",
                    R("support.tickets", kd, **base, **acc, status=status, updated_at=ts(day, s)),
                )
            tickets.append((day, pr, float(csat or 0), slow))


def _usage(
    ctx: Ctx,
    rng: random.Random,
    out: AccountOut,
    acct: str,
    n: int,
    seg: str,
    events: list[Event],
    usage_subs: list[tuple[_Sub, str]],
) -> dict[tuple[str, dt.date], Decimal]:
    """Daily usage rows (numpy) for each usage subscription's active days; returns month totals."""
    totals: dict[tuple[str, dt.date], Decimal] = {}
    H = ctx.horizon
    for sub, metric in usage_subs:
        evs = sorted(
            (e for e in events if e.subscription_id == sub.sid),
            key=lambda e: (e.effective_date, e.recorded_at, e.event_id),
        )
        if not evs:
            continue
        a = evs[0].effective_date
        b = next((e.effective_date for e in evs if e.event_type == "cancel"), H + DAY)
        b = min(b, H + DAY)
        days = (b - a).days
        if days <= 0:
            continue
        nr = np.random.default_rng([ctx.seed, n, int(sub.sid[-2:]), 11])
        level = USAGE[metric][1][seg] * nr.lognormal(0, 0.5)
        t = np.arange(days)
        dow = (a.toordinal() + t) % 7  # 0 = Monday for ordinals? (ordinal 1 = Monday)
        weekday = np.where((dow == 6) | (dow == 0), 0.45, 1.0)
        growth = np.exp(t * nr.normal(0.0008, 0.0006))
        noise = nr.lognormal(0, 0.25, size=days)
        spikes = np.where(nr.random(days) < 0.02, nr.uniform(3, 10, size=days), 1.0)
        qty = np.floor(level * weekday * growth * noise * spikes).astype(np.int64)
        lag = np.ones(days, dtype=np.int64)
        late = nr.random(days) < 0.04
        lag[late] = nr.integers(2, 11, size=int(late.sum()))
        recv_s = nr.integers(3600, 5 * 3600, size=days)
        occ = a.toordinal() + t
        rec = occ + lag
        out.usage.append(
            dict(sid=sub.sid, acct=acct, metric=metric, occ=occ, rec=rec, recv_s=recv_s, qty=qty)
        )
        # month totals (every row, including ones that arrive after the horizon: the billing
        # system bills from the metering system's final totals)
        mon = (occ - EPOCH_ORD).astype("datetime64[D]").astype("datetime64[M]")
        months, cuts = np.unique(mon, return_index=True)
        sums = np.add.reduceat(qty, cuts)
        for m, s in zip(months.tolist(), sums.tolist(), strict=True):
            totals[(sub.sid, m)] = Decimal(s)
    return totals


def _bill(
    ctx: Ctx,
    rng: random.Random,
    out: AccountOut,
    acct: str,
    n: int,
    ccy: str,
    seg: str,
    country: str,
    lines: list[Line],
    known: dict[str, dt.date],
) -> None:
    """The billing system: R3 lines, minus/plus injected exceptions, grouped into invoices."""
    H = ctx.horizon
    # exceptions per key (subscription or charge, period_start) with a non-zero expected sum
    by_key: dict[tuple, list[Line]] = {}
    for ln in lines:
        by_key.setdefault((ln.subscription_id or ln.charge_id, ln.period_start), []).append(ln)
    issued: list[Line] = []
    for (ref, ps), grp in by_key.items():
        exp = sum((ln.amount for ln in grp), Decimal(0))
        r = rng.random()
        if exp != 0 and r < ctx.exception_rate * 0.4:
            out.exceptions.append(
                (
                    "missing_in_billing",
                    acct,
                    grp[0].subscription_id,
                    grp[0].charge_id,
                    ps,
                    exp,
                    Decimal("0.00"),
                    grp[0].line_date,
                )
            )
            continue
        if exp != 0 and r < ctx.exception_rate * 0.8:
            bad = grp[-1]
            delta = money(abs(bad.amount) * Decimal(str(rng.choice((0.1, -0.1, 0.25, 0.5)))))
            if abs(delta) <= Decimal("0.01"):
                delta = Decimal("1.00")
            grp = [*grp[:-1], _replace_amount(bad, bad.amount + delta)]
            out.exceptions.append(
                (
                    "amount_mismatch",
                    acct,
                    bad.subscription_id,
                    bad.charge_id,
                    ps,
                    exp,
                    exp + delta,
                    grp[0].line_date,
                )
            )
        issued += grp
        if r > 1 - ctx.exception_rate * 0.2 and grp[0].line_type == "recurring":
            ln = grp[0]
            xd = ln.period_start + dt.timedelta(days=1)
            if (ref, xd) not in by_key and xd <= H:
                amt = money(abs(ln.amount) * Decimal("0.5")) or Decimal("10.00")
                issued.append(
                    Line(
                        acct,
                        ccy,
                        xd,
                        "recurring",
                        ln.plan_id,
                        xd,
                        ln.period_end,
                        ln.quantity,
                        amt,
                        ln.subscription_id,
                        ln.charge_id,
                    )
                )
                out.exceptions.append(
                    (
                        "unexpected_in_billing",
                        acct,
                        ln.subscription_id,
                        ln.charge_id,
                        xd,
                        Decimal("0.00"),
                        amt,
                        xd,
                    )
                )
    # invoices: lines of one (account, date) known on the same day
    groups: dict[tuple[dt.date, dt.date], list[Line]] = {}
    for ln in issued:
        k = max(ln.line_date, known.get(ln.cause, ln.line_date)) if ln.cause else ln.line_date
        groups.setdefault((ln.line_date, k), []).append(ln)
    inv_n = line_n = pay_n = cn_n = 0

    def payment(
        day: dt.date,
        seq: int,
        invoice_id: str,
        amount: Decimal,
        status: str,
        attempted_at: str,
        failure_reason: str | None,
    ) -> None:
        """A billing.payments row of this account: a collection attempt or a refund."""
        out.add(
            "billing.payments",
            R(
                "billing.payments",
                day,
                payment_id=f"PAY-{n:07d}-{seq:05d}",
                invoice_id=invoice_id,
                account_id=acct,
                amount=dec(amount),
                currency=ccy,
                status=status,
                attempted_at=attempted_at,
                failure_reason=failure_reason,
            ),
        )

    def credit_note(
        day: dt.date, seq: int, invoice_id: str | None, amount: Decimal, reason: str
    ) -> None:
        """A billing.credit_notes row of this account (refunds also get a refunded payment)."""
        out.add(
            "billing.credit_notes",
            R(
                "billing.credit_notes",
                day,
                credit_note_id=f"CRN-{n:07d}-{seq:03d}",
                invoice_id=invoice_id,
                account_id=acct,
                amount=dec(amount),
                currency=ccy,
                reason=reason,
                issued_date=d2s(day),
            ),
        )

    terms = {"smb": 14, "mid_market": 30, "enterprise": 45}[seg]
    tax_rate = TAX.get(country, Decimal(0))
    fail_p = {"smb": 0.08, "mid_market": 0.04, "enterprise": 0.02}[seg]
    for (idate, kday), grp in sorted(groups.items()):
        reissue = rng.random() < 0.004
        for attempt in range(2 if reissue else 1):
            inv_n += 1
            iid = f"INV-{n:07d}-{inv_n:04d}"
            sub = sum((ln.amount for ln in grp), Decimal(0))
            tax = money(sub * tax_rate)
            total = sub + tax
            due = idate + dt.timedelta(days=terms)
            issue_s = 6 * 3600 + rng.randint(0, 3600)
            base = dict(
                invoice_id=iid,
                account_id=acct,
                invoice_date=d2s(idate),
                due_date=d2s(due),
                currency=ccy,
                subtotal=dec(sub),
                tax=dec(tax),
                total=dec(total),
            )

            def version(day: dt.date, secs: int, status: str, base=base) -> None:
                if day <= H:
                    out.add(
                        "billing.invoices",
                        R("billing.invoices", day, **base, status=status, updated_at=ts(day, secs)),
                    )

            first_status = "paid" if total <= 0 else "open"
            version(kday, issue_s, first_status)
            for ln in grp:
                line_n += 1
                out.add(
                    "billing.invoice_lines",
                    R(
                        "billing.invoice_lines",
                        kday,
                        invoice_line_id=f"INL-{n:07d}-{line_n:06d}",
                        invoice_id=iid,
                        subscription_id=ln.subscription_id,
                        charge_id=ln.charge_id,
                        plan_id=ln.plan_id,
                        period_start=d2s(ln.period_start),
                        period_end=d2s(ln.period_end),
                        quantity=dec(ln.quantity),
                        amount=dec(ln.amount),
                    ),
                )
            bk = (idate.replace(day=1), FAMILY[grp[0].plan_id])
            agg = out.stats.setdefault("billings", {})
            agg[bk] = agg.get(bk, Decimal(0)) + total / FX_USD[ccy]
            if reissue and attempt == 0:
                version(kday, issue_s + 7200, "void")
                continue
            if total <= 0:
                continue
            # collections: autopay card (smb) or transfer near due date; dunning on failure
            t = kday + dt.timedelta(days=0 if seg == "smb" else rng.randint(5, terms + 10))
            paid = False
            for k in range(4):
                pay_n += 1
                ok = rng.random() > (fail_p if k == 0 else 0.35)
                secs = 8 * 3600 + rng.randint(0, 8 * 3600)
                if t > H:
                    break
                payment(
                    t,
                    pay_n,
                    iid,
                    total,
                    "succeeded" if ok else "failed",
                    ts(t, secs),
                    None
                    if ok
                    else rng.choice(
                        ("card_declined", "insufficient_funds", "expired_card", "bank_rejected")
                    ),
                )
                if ok:
                    version(t, secs + 60, "paid")
                    paid = True
                    break
                t += dt.timedelta(days=(3, 5, 7, 7)[k])
            if not paid and t <= H:
                version(max(t, due + dt.timedelta(days=45)), 20 * 3600, "uncollectible")
            # refunds and credit notes
            r = rng.random()
            if paid and r < 0.006:
                cn_n += 1
                pay_n += 1
                amt = money(total * Decimal("0.5"))
                cd = t + dt.timedelta(days=rng.randint(5, 40))
                if cd <= H and amt > 0:
                    credit_note(cd, cn_n, iid, amt, "refund")
                    payment(cd, pay_n, iid, amt, "refunded", ts(cd, 12 * 3600), None)
            elif r < 0.015:
                cn_n += 1
                amt = money(total * Decimal(str(rng.choice((0.05, 0.1, 0.2)))))
                cd = kday + dt.timedelta(days=rng.randint(1, 60))
                if cd <= H and amt > 0:
                    credit_note(
                        cd,
                        cn_n,
                        iid if rng.random() < 0.7 else None,
                        amt,
                        rng.choice(("service_credit", "goodwill", "billing_error")),
                    )


def _replace_amount(ln: Line, amount: Decimal) -> Line:
    return replace(ln, amount=amount)
