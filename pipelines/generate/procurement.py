"""Company-wide facts: FX rates (random walk) and procurement (vendors, POs, vendor bills).
Built after the accounts, from monthly billings by product family, so costs track revenue."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from pipelines.generate.billing import add_months, money
from pipelines.generate.common import DAY, FX_LEVEL, R, d2s, dec, q, ts
from pipelines.generate.params import MANAGERS

EMPLOYEES = (
    "ops.ito@subops.example",
    "ops.meyer@subops.example",
    "eng.patel@subops.example",
    "eng.novak@subops.example",
    "fin.dubois@subops.example",
)


class Vendor(NamedTuple):
    vendor_id: str
    name: str
    category: str
    country: str
    currency: str
    terms: int  # payment terms, days
    cost_type: str  # cogs | opex
    family: str | None  # product family its cost belongs to (None: the whole company)
    cadence: int  # months a bill covers; 0: a contractor, bought per implementation


VENDORS = tuple(
    Vendor(*v)
    for v in (
        ("VND-001", "Amazon Web Services", "cloud_hosting", "US", "USD", 30, "cogs", "platform", 1),
        ("VND-002", "Google Cloud", "cloud_hosting", "US", "USD", 30, "cogs", "analytics", 1),
        ("VND-003", "Hetzner Online", "cloud_hosting", "DE", "EUR", 14, "cogs", "payments", 1),
        ("VND-004", "Stripe", "payment_processing", "US", "USD", 0, "cogs", None, 1),
        ("VND-005", "Adyen", "payment_processing", "NL", "EUR", 0, "cogs", "payments", 1),
        ("VND-006", "Mapbox", "third_party_license", "US", "USD", 30, "cogs", "analytics", 3),
        ("VND-007", "Sentry", "third_party_license", "US", "USD", 30, "cogs", "platform", 3),
        ("VND-008", "Salesforce", "third_party_license", "US", "USD", 30, "opex", None, 1),
        ("VND-009", "WeWork", "facilities", "GB", "GBP", 30, "opex", None, 1),
        ("VND-010", "Mori Building", "facilities", "JP", "JPY", 30, "opex", None, 1),
        ("VND-011", "Baker & Lane LLP", "other", "GB", "GBP", 45, "opex", None, 3),
        ("VND-012", "Kappa Consulting", "contractor", "GB", "GBP", 30, "cogs", "services", 0),
        ("VND-013", "Nordic Implementers", "contractor", "DE", "EUR", 30, "cogs", "services", 0),
        ("VND-014", "Pacific Integrations", "contractor", "JP", "JPY", 30, "cogs", "services", 0),
        ("VND-015", "Acme Services", "contractor", "US", "USD", 30, "cogs", "services", 0),
    )
)
CONTRACTOR_BY_CCY = {"GBP": "VND-012", "EUR": "VND-013", "JPY": "VND-014", "USD": "VND-015"}
# share of a family's monthly billings (USD) and a fixed monthly base (USD)
COST_SHARE = {
    "VND-001": ("0.07", 3000),
    "VND-002": ("0.09", 1500),
    "VND-003": ("0.05", 800),
    "VND-004": ("0.015", 100),
    "VND-005": ("0.01", 100),
    "VND-006": ("0.03", 2000),
    "VND-007": ("0.01", 900),
    "VND-008": ("0", 4000),
    "VND-009": ("0", 12000),
    "VND-010": ("0", 6000),
    "VND-011": ("0", 7000),
}
#: share of a family vendor's bills entered with neither PO, account nor family
UNASSIGNED_P = 0.08
FX_SIGMA = {"EUR": 0.004, "GBP": 0.0045, "JPY": 0.005}
RATE = {"USD": Decimal(1), **FX_LEVEL}


def fx_rows(seed: int, first: dt.date, last: dt.date) -> list[tuple]:
    """Daily mean-reverting log random walk per currency, 4 decimals, first..last inclusive."""
    n = (last - first).days + 1
    rows = []
    series = {}
    for k, (ccy, level) in enumerate(sorted(FX_LEVEL.items())):
        rng = np.random.default_rng([seed, 99, k])
        x = np.empty(n)
        x[0] = rng.normal(0, 0.03)
        shocks = rng.normal(0, FX_SIGMA[ccy], size=n)
        for i in range(1, n):
            x[i] = 0.997 * x[i - 1] + shocks[i]
        series[ccy] = [q(level * Decimal(repr(float(np.exp(v)))), "0.0001") for v in x]
    for i in range(n):
        d = first + dt.timedelta(days=i)
        for ccy in sorted(series):
            rows.append((d, (d2s(d), ccy), d2s(d), ccy, dec(series[ccy][i])))
    return rows


def procurement(
    seed: int,
    start: dt.date,
    horizon: dt.date,
    billings: dict[tuple[dt.date, str], Decimal],
    contractors: list[tuple[str, dt.date, dt.date, Decimal, str]],
    unassigned: list[tuple] | None = None,
) -> dict[str, list[tuple]]:
    """Vendors, POs and bills. `billings`: (month, family) -> billed USD (approx. FX);
    `contractors`: (account_id, kickoff, go-live, hours, account currency). `unassigned` gets
    (bill_id, vendor_id, true family) of the bills written with neither account nor family."""
    dept = _Procurement(random.Random(seed * 7919 + 5), start, horizon, billings)
    dept.blank_rng = random.Random(seed * 104_729 + 17)  # apart: other bills stay unchanged
    dept.unassigned = unassigned if unassigned is not None else []
    dept.vendors()
    for v in VENDORS:
        if v.cadence:
            dept.recurring_vendor(v)
    for contractor in contractors:
        dept.contractor(*contractor)
    return dept.out


class _Procurement:
    """The purchasing department: POs through approval, vendor bills through payment."""

    def __init__(
        self,
        rng: random.Random,
        start: dt.date,
        horizon: dt.date,
        billings: dict[tuple[dt.date, str], Decimal],
    ):
        self.rng, self.start, self.horizon, self.billings = rng, start, horizon, billings
        self.out: dict[str, list[tuple]] = {
            "procurement.vendors": [],
            "procurement.purchase_orders": [],
            "procurement.vendor_bills": [],
        }
        self.fam_total: dict[dt.date, Decimal] = {}
        for (m, _f), v in billings.items():
            self.fam_total[m] = self.fam_total.get(m, Decimal(0)) + v
        self._pos = self._bills = 0

    def vendors(self) -> None:
        day = self.start - dt.timedelta(days=30)
        for vid, name, cat, country, ccy, terms, *_ in VENDORS:
            self.out["procurement.vendors"].append(
                R(
                    "procurement.vendors",
                    day,
                    vendor_id=vid,
                    vendor_name=name,
                    category=cat,
                    country=country,
                    currency=ccy,
                    payment_terms_days=str(terms),
                    updated_at=ts(day, 9 * 3600),
                )
            )

    def recurring_vendor(self, v: Vendor) -> None:
        """One PO per calendar year (its estimate from the fixed cost), bills every `cadence`
        months: the fixed cost plus a share of the family's (or all) billings, +-7%."""
        vid, ccy, fam, cadence = v.vendor_id, v.currency, v.family, v.cadence
        share, fixed = COST_SHARE[vid]
        year = self.start.year
        while dt.date(year, 1, 1) <= self.horizon:
            y0 = max(self.start, dt.date(year, 1, 1))
            est = Decimal(fixed) * 14 * RATE[ccy]
            po = _Order(vid, ccy, q(est, "1"), v.cost_type, fam, None)
            pid = self.purchase_order(po, y0, dt.date(year, 12, 31))
            m = y0.replace(day=1)
            while m.year == year and m <= self.horizon:
                e = add_months(m, cadence)
                usd = self._cost_usd(Decimal(fixed) * cadence, Decimal(share), m, cadence, fam)
                amt = money(usd * RATE[ccy] * Decimal(str(round(self.rng.uniform(0.93, 1.07), 3))))
                if fam and self.blank_rng.random() < UNASSIGNED_P:
                    # entered without PO or family: the true family goes to the truth manifest
                    bill = replace(po, amount=amt, family=None)
                    self.vendor_bill(bill, v.terms, None, max(m, self.start), e, true_family=fam)
                else:
                    self.vendor_bill(replace(po, amount=amt), v.terms, pid, max(m, self.start), e)
                m = e
            year += 1

    def _cost_usd(
        self, usd: Decimal, share: Decimal, m: dt.date, cadence: int, fam: str | None
    ) -> Decimal:
        """`usd` plus `share` of each month's billings (USD) of `cadence` months from m: the
        family's, or all families'."""
        for _ in range(cadence):
            base = (
                self.billings.get((m, fam), Decimal(0))
                if fam
                else self.fam_total.get(m, Decimal(0))
            )
            usd += base * share
            m = add_months(m, 1)
        return usd

    def contractor(self, acct: str, kick: dt.date, go: dt.date, hours: Decimal, accy: str) -> None:
        """A contractor in the account's currency area did an implementation: billed to it."""
        v = next(v for v in VENDORS if v.vendor_id == CONTRACTOR_BY_CCY[accy])
        vid, ccy, terms = v.vendor_id, v.currency, v.terms
        amt = money(hours * Decimal("0.6") * Decimal(85) * RATE[ccy])
        po = _Order(vid, ccy, amt, "cogs", "services", acct)
        pid = self.purchase_order(po, kick - dt.timedelta(days=7), go + dt.timedelta(days=30))
        self.vendor_bill(po, terms, pid, kick, max(go, kick + DAY))

    def purchase_order(self, po: _Order, day: dt.date, close_day: dt.date) -> str | None:
        """Requested -> approved (or rejected) -> received -> closed; returns its id unless
        rejected. A few are approved by their requester, a few take weeks."""
        rng = self.rng
        self._pos += 1
        pid = f"PO-{self._pos:06d}"
        req = rng.choice(EMPLOYEES)
        appr = req if rng.random() < 0.03 else rng.choice(MANAGERS)
        s0 = rng.randint(9 * 3600, 17 * 3600)
        lag = int((rng.uniform(4, 25) if rng.random() < 0.15 else rng.uniform(0.1, 3)) * 86400)
        base = dict(
            po_id=pid,
            vendor_id=po.vendor_id,
            requested_by=req,
            requested_at=ts(day, s0),
            amount=dec(po.amount),
            currency=po.currency,
            cost_type=po.cost_type,
            product_family=po.family,
            account_id=po.account_id,
        )
        rejected = rng.random() < 0.04
        vers = [
            (s0, "requested", {}),
            (
                s0 + lag,
                "rejected" if rejected else "approved",
                {"approved_by": appr, "approved_at": ts(day, s0 + lag)},
            ),
        ]
        if not rejected:
            vers.append((s0 + lag + 86400 * rng.randint(1, 10), "received", {}))
            vers.append((((close_day - day).days + 1) * 86400 + 3600, "closed", {}))
        acc: dict = {}
        for s, status, extra in vers:
            acc.update(extra)
            kd = day + dt.timedelta(days=s // 86400)
            if kd <= self.horizon:
                self.out["procurement.purchase_orders"].append(
                    R(
                        "procurement.purchase_orders",
                        kd,
                        **base,
                        **acc,
                        status=status,
                        updated_at=ts(day, s),
                    )
                )
        return None if rejected else pid

    def vendor_bill(
        self,
        po: _Order,
        terms: int,
        pid: str | None,
        s: dt.date,
        e: dt.date,
        true_family: str | None = None,
    ) -> None:
        """A bill for service period [s, e): received -> approved -> paid, or disputed."""
        rng = self.rng
        self._bills += 1
        bd = e + dt.timedelta(days=rng.randint(1, 6))
        if bd > self.horizon:
            return
        if true_family:
            self.unassigned.append((f"BILL-{self._bills:07d}", po.vendor_id, true_family))
        base = dict(
            bill_id=f"BILL-{self._bills:07d}",
            vendor_id=po.vendor_id,
            po_id=pid,
            bill_date=d2s(bd),
            service_period_start=d2s(s),
            service_period_end=d2s(e),
            amount=dec(po.amount),
            currency=po.currency,
            cost_type=po.cost_type,
            product_family=po.family,
            account_id=po.account_id,
        )
        ad = bd + dt.timedelta(days=rng.randint(1, 8))
        pd_ = max(ad, bd + dt.timedelta(days=terms)) + dt.timedelta(days=rng.randint(0, 3))
        vers = [(bd, "received", None)]
        if rng.random() < 0.03:
            vers.append((ad, "disputed", None))
        else:
            vers += [(ad, "approved", None), (pd_, "paid", ts(pd_, 9 * 3600))]
        for k, (day, status, paid) in enumerate(vers):
            if day <= self.horizon:
                self.out["procurement.vendor_bills"].append(
                    R(
                        "procurement.vendor_bills",
                        day,
                        **base,
                        status=status,
                        paid_at=paid,
                        updated_at=ts(day, 10 * 3600 + k),
                    )
                )


@dataclass(frozen=True)
class _Order:
    """What a PO (and its bills) is for."""

    vendor_id: str
    currency: str
    amount: Decimal
    cost_type: str
    family: str | None
    account_id: str | None
