"""The billing system of one account: it records subscription events and one-time charges, issues
the R3 lines minus/plus injected exceptions (listed in the truth manifest) as invoices, collects
them (autopay or transfer, dunning on failure) and now and then refunds or credits them."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from decimal import Decimal

from pipelines.generate.account import Account, AccountOut
from pipelines.generate.billing import Charge, Event, Line, money
from pipelines.generate.common import FAMILY, R, d2s, dec, ts
from pipelines.generate.params import FX_USD, TAX, Params

FAILURES = ("card_declined", "insufficient_funds", "expired_card", "bank_rejected")
CREDIT_REASONS = ("service_credit", "goodwill", "billing_error")
#: days to the next collection attempt after the k-th failure
RETRY_DAYS = (3, 5, 7, 7)


@dataclass(frozen=True)
class _Invoice:
    values: dict  # the billing.invoices columns but status and updated_at
    issued_s: int  # seconds after midnight of the day it was issued
    due: dt.date
    total: Decimal

    @property
    def invoice_id(self) -> str:
        return self.values["invoice_id"]


class BillingSystem:
    """One account's billing system; ids are numbered per account."""

    def __init__(self, p: Params, a: Account, rng: random.Random, out: AccountOut):
        self.p, self.a, self.rng, self.out = p, a, rng, out
        self.tax_rate = TAX.get(a.country, Decimal(0))
        self._invoices = self._lines = self._payments = self._credit_notes = 0
        self.planter = None  # plant.Planter: a key to bill twice (duplicate_line)
        self._known: dict[str, dt.date] = {}

    # --- what the billing system records ---------------------------------------------------------
    def record_events(self, events: list[Event], contract_of: dict[str, str | None]) -> None:
        a = self.a
        for e in events:
            self.out.add(
                "billing.subscription_events",
                R(
                    "billing.subscription_events",
                    dt.date.fromisoformat(e.recorded_at[:10]),
                    event_id=e.event_id,
                    subscription_id=e.subscription_id,
                    account_id=a.account_id,
                    contract_id=contract_of[e.event_id],
                    event_type=e.event_type,
                    effective_date=d2s(e.effective_date),
                    plan_id=e.plan_id,
                    quantity=dec(e.quantity),
                    unit_price=dec(e.unit_price),
                    currency=a.currency,
                    recorded_at=e.recorded_at,
                ),
            )

    def record_charges(self, charges: list[tuple[Charge, str]]) -> list[Charge]:
        """One-time charges due by the horizon (with their contract); returns them."""
        due = []
        for c, contract_id in charges:
            if c.milestone_date > self.p.horizon:
                continue
            due.append(c)
            self.out.add(
                "billing.one_time_charges",
                R(
                    "billing.one_time_charges",
                    c.milestone_date,
                    charge_id=c.charge_id,
                    account_id=self.a.account_id,
                    contract_id=contract_id,
                    plan_id=c.plan_id,
                    description="Implementation milestone",
                    amount=dec(c.amount),
                    currency=self.a.currency,
                    milestone_date=d2s(c.milestone_date),
                ),
            )
        return due

    # --- issuing ---------------------------------------------------------------------------------
    def issue(self, lines: list[Line], events: list[Event]) -> None:
        """Lines (with exceptions) grouped into invoices: the lines of one invoice date known on
        the same day (a change recorded after it took effect is invoiced when recorded)."""
        known = {e.event_id: dt.date.fromisoformat(e.recorded_at[:10]) for e in events}
        self._known = known
        groups: dict[tuple[dt.date, dt.date], list[Line]] = {}
        for ln in self._with_exceptions(lines):
            k = max(ln.line_date, known.get(ln.cause, ln.line_date)) if ln.cause else ln.line_date
            groups.setdefault((ln.line_date, k), []).append(ln)
        for (idate, kday), grp in sorted(groups.items()):
            self._invoice_group(idate, kday, grp)

    def _with_exceptions(self, lines: list[Line]) -> list[Line]:
        """Per key (subscription or charge, period start) with a non-zero expected sum, a few
        are not billed, billed a wrong amount, or billed again a day later."""
        by_key: dict[tuple, list[Line]] = {}
        for ln in lines:
            by_key.setdefault((ln.subscription_id or ln.charge_id, ln.period_start), []).append(ln)
        rate = self.p.exception_rate
        issued: list[Line] = []
        for (ref, ps), grp in by_key.items():
            exp = sum((ln.amount for ln in grp), Decimal(0))
            r = self.rng.random()
            if exp != 0 and r < rate * 0.4:
                self._exception(
                    "missing_in_billing", grp[0], ps, exp, Decimal("0.00"), grp[0], self._cause(grp)
                )
                continue
            if exp != 0 and r < rate * 0.8:
                grp = self._mismatch(grp, ps, exp)
            elif self.planter and self.planter.double_key == (ref, ps):
                grp = self._double(grp, ps, exp)
            issued += grp
            if r > 1 - rate * 0.2 and grp[0].line_type == "recurring":
                issued += self._unexpected(grp[0], ref, by_key)
        return issued

    def _exception(
        self,
        kind: str,
        ln: Line,
        ps: dt.date,
        exp: Decimal,
        got: Decimal,
        dated: Line,
        cause: str,
    ) -> None:
        self.out.exceptions.append(
            (
                kind,
                self.a.account_id,
                ln.subscription_id,
                ln.charge_id,
                ps,
                exp,
                got,
                dated.line_date,
                cause,
            )
        )

    def _cause(self, grp: list[Line], bad: Line | None = None) -> str:
        """Why the billing system got a key wrong (the truth manifest's cause): a change recorded
        after the period it changed started (backdated amendment), else by the wrong line's kind:
        a missing usage line, a proration, a one-time charge or a recurring line."""
        late = any(
            ln.cause and self._known.get(ln.cause, ln.line_date) > ln.period_start for ln in grp
        )
        if late:
            return "backdated_amendment"
        kind = (bad or grp[-1]).line_type
        if bad is None:  # not billed at all
            return {"usage": "missing_usage", "one_time": "missing_charge"}.get(
                kind, "skipped_billing_run"
            )
        return {"proration": "proration_error", "usage": "usage_rating_error"}.get(
            kind, "price_override"
        )

    def _double(self, grp: list[Line], ps: dt.date, exp: Decimal) -> list[Line]:
        """The planted key (plant.Planter): its last line billed a second time."""
        bad = grp[-1]
        self._exception("amount_mismatch", bad, ps, exp, exp + bad.amount, grp[0], "duplicate_line")
        self.planter.doubled(bad.amount)
        return [*grp, bad]

    def _mismatch(self, grp: list[Line], ps: dt.date, exp: Decimal) -> list[Line]:
        """The key's last line billed 10-50% off."""
        bad = grp[-1]
        delta = money(abs(bad.amount) * Decimal(str(self.rng.choice((0.1, -0.1, 0.25, 0.5)))))
        if abs(delta) <= Decimal("0.01"):
            delta = Decimal("1.00")
        grp = [*grp[:-1], replace(bad, amount=bad.amount + delta)]
        self._exception("amount_mismatch", bad, ps, exp, exp + delta, grp[0], self._cause(grp, bad))
        return grp

    def _unexpected(self, ln: Line, ref: str, by_key: dict[tuple, list[Line]]) -> list[Line]:
        """A recurring line billed a second time, one day after its period start."""
        xd = ln.period_start + dt.timedelta(days=1)
        if (ref, xd) in by_key or xd > self.p.horizon:
            return []
        amt = money(abs(ln.amount) * Decimal("0.5")) or Decimal("10.00")
        extra = Line(
            self.a.account_id,
            self.a.currency,
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
        self._exception(
            "unexpected_in_billing", ln, xd, Decimal("0.00"), amt, extra, "duplicate_line"
        )
        return [extra]

    def _invoice_group(self, idate: dt.date, kday: dt.date, grp: list[Line]) -> None:
        """One invoice of the group (a rare one voided and issued again), then collections and
        credits."""
        reissue = self.rng.random() < self.p.reissue_p
        for attempt in range(2 if reissue else 1):
            inv = self._invoice(idate, kday, grp)
            if reissue and attempt == 0:
                self._version(inv, kday, inv.issued_s + 7200, "void")
                continue
            if inv.total <= 0:
                continue
            paid, t = self._collect(inv, kday)
            self._credit(inv, kday, t, paid)

    def _invoice(self, idate: dt.date, kday: dt.date, grp: list[Line]) -> _Invoice:
        """Issue the invoice and its lines on kday (and count it in the month's billings)."""
        a = self.a
        self._invoices += 1
        sub = sum((ln.amount for ln in grp), Decimal(0))
        tax = money(sub * self.tax_rate)
        total = sub + tax
        due = idate + dt.timedelta(days=a.profile.payment_terms_days)
        values = dict(
            invoice_id=f"INV-{a.n:07d}-{self._invoices:04d}",
            account_id=a.account_id,
            invoice_date=d2s(idate),
            due_date=d2s(due),
            currency=a.currency,
            subtotal=dec(sub),
            tax=dec(tax),
            total=dec(total),
        )
        inv = _Invoice(values, 6 * 3600 + self.rng.randint(0, 3600), due, total)
        self._version(inv, kday, inv.issued_s, "paid" if total <= 0 else "open")
        for ln in grp:
            self._invoice_line(inv.invoice_id, kday, ln)
        bk = (idate.replace(day=1), FAMILY[grp[0].plan_id])
        agg = self.out.stats.setdefault("billings", {})
        agg[bk] = agg.get(bk, Decimal(0)) + total / FX_USD[a.currency]
        return inv

    def _version(self, inv: _Invoice, day: dt.date, secs: int, status: str) -> None:
        """A billing.invoices version (none after the horizon)."""
        if day <= self.p.horizon:
            self.out.add(
                "billing.invoices",
                R("billing.invoices", day, **inv.values, status=status, updated_at=ts(day, secs)),
            )

    def _invoice_line(self, invoice_id: str, kday: dt.date, ln: Line) -> None:
        self._lines += 1
        self.out.add(
            "billing.invoice_lines",
            R(
                "billing.invoice_lines",
                kday,
                invoice_line_id=f"INL-{self.a.n:07d}-{self._lines:06d}",
                invoice_id=invoice_id,
                subscription_id=ln.subscription_id,
                charge_id=ln.charge_id,
                plan_id=ln.plan_id,
                period_start=d2s(ln.period_start),
                period_end=d2s(ln.period_end),
                quantity=dec(ln.quantity),
                amount=dec(ln.amount),
            ),
        )

    # --- collections and credits -----------------------------------------------------------------
    def _collect(self, inv: _Invoice, kday: dt.date) -> tuple[bool, dt.date]:
        """Autopay card (smb, on the invoice day) or a transfer near the due date; up to four
        attempts, then uncollectible. Returns (paid, day of the last attempt)."""
        rng, a = self.rng, self.a
        terms = a.profile.payment_terms_days
        t = kday + dt.timedelta(days=0 if a.segment == "smb" else rng.randint(5, terms + 10))
        for k in range(4):
            self._payments += 1
            ok = rng.random() > (a.profile.payment_fail_p if k == 0 else 0.35)
            secs = 8 * 3600 + rng.randint(0, 8 * 3600)
            if t > self.p.horizon:
                return False, t
            reason = None if ok else rng.choice(FAILURES)
            status = "succeeded" if ok else "failed"
            self._payment(t, inv.invoice_id, inv.total, status, ts(t, secs), reason)
            if ok:
                self._version(inv, t, secs + 60, "paid")
                return True, t
            t += dt.timedelta(days=RETRY_DAYS[k])
        if t <= self.p.horizon:
            last = max(t, inv.due + dt.timedelta(days=45))
            self._version(inv, last, 20 * 3600, "uncollectible")
        return False, t

    def _credit(self, inv: _Invoice, kday: dt.date, t: dt.date, paid: bool) -> None:
        """A paid invoice may be half refunded; any invoice may get a service credit."""
        rng, H = self.rng, self.p.horizon
        r = rng.random()
        if paid and r < self.p.refund_p:
            self._credit_notes += 1
            self._payments += 1
            amt = money(inv.total * Decimal("0.5"))
            cd = t + dt.timedelta(days=rng.randint(5, 40))
            if cd <= H and amt > 0:
                self._credit_note(cd, inv.invoice_id, amt, "refund")
                self._payment(cd, inv.invoice_id, amt, "refunded", ts(cd, 12 * 3600), None)
        elif r < self.p.credit_p:
            self._credit_notes += 1
            amt = money(inv.total * Decimal(str(rng.choice((0.05, 0.1, 0.2)))))
            cd = kday + dt.timedelta(days=rng.randint(1, 60))
            if cd <= H and amt > 0:
                iid = inv.invoice_id if rng.random() < 0.7 else None
                self._credit_note(cd, iid, amt, rng.choice(CREDIT_REASONS))

    def _payment(
        self,
        day: dt.date,
        invoice_id: str,
        amount: Decimal,
        status: str,
        attempted_at: str,
        failure_reason: str | None,
    ) -> None:
        """A billing.payments row: a collection attempt or a refund."""
        self.out.add(
            "billing.payments",
            R(
                "billing.payments",
                day,
                payment_id=f"PAY-{self.a.n:07d}-{self._payments:05d}",
                invoice_id=invoice_id,
                account_id=self.a.account_id,
                amount=dec(amount),
                currency=self.a.currency,
                status=status,
                attempted_at=attempted_at,
                failure_reason=failure_reason,
            ),
        )

    def _credit_note(
        self, day: dt.date, invoice_id: str | None, amount: Decimal, reason: str
    ) -> None:
        self.out.add(
            "billing.credit_notes",
            R(
                "billing.credit_notes",
                day,
                credit_note_id=f"CRN-{self.a.n:07d}-{self._credit_notes:03d}",
                invoice_id=invoice_id,
                account_id=self.a.account_id,
                amount=dec(amount),
                currency=self.a.currency,
                reason=reason,
                issued_date=d2s(day),
            ),
        )
