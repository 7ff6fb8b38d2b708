"""Planted billing anomalies: a few accounts get one anomalous event each (an invoice total spike,
a usage spike, an unusual credit note, a line billed twice, a price above the plan's list price,
usage after cancellation), listed in the truth manifest's `anomalies.csv` with the rows behind it.

Each account draws from its own stream (seeded apart from the account's simulation), so an account
without a planted event is byte-identical to a generator without planting. An event is planted
only where the account has history enough to judge it: at least `MIN_HISTORY` months before."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal
from statistics import median

import numpy as np

from pipelines.generate.account import Account, AccountOut
from pipelines.generate.billing import Charge, Event, Line, add_months, money
from pipelines.generate.common import plan_id

#: share of accounts that get one planted anomaly
ANOMALY_P = 0.15
#: months of the account's own history before a planted month
MIN_HISTORY = 9
KINDS = (
    "invoice_total_spike",
    "usage_spike",
    "credit_note_spike",
    "duplicate_line",
    "price_above_list",
    "usage_after_cancellation",
)
SPIKE = Decimal(6)  # invoice total / usage quantity multiple of the account's usual month
PRICE_ABOVE = Decimal("1.6")  # unit price over the plan's list price


def _months(d: dt.date) -> int:
    return d.year * 12 + d.month


@dataclass
class Planter:
    """One account's planted event, if any; the generator calls its hooks in order."""

    p: object
    a: Account
    kind: str | None = None
    truth: list[tuple] = field(default_factory=list)
    double_key: tuple | None = None  # (subscription_id, period_start) the billing bills twice

    def __post_init__(self) -> None:
        self.rng = random.Random(self.p.seed * 7_919_113 + self.a.n * 31 + 5)
        self.selected = self.rng.random() < ANOMALY_P

    def _choose(self, events: list[Event], plans: dict) -> None:
        """The kind of the account's event, among those its subscriptions allow."""
        first = min(e.effective_date for e in events)
        w = self._window(first)
        if w is None:
            return
        ok = ["invoice_total_spike", "credit_note_spike", "duplicate_line"]
        kinds = {e.subscription_id: plans[e.plan_id].charge_type for e in events if e.plan_id}
        if any(
            e.event_type in ("activate", "change", "renew")
            and kinds.get(e.subscription_id) == "recurring"
            and w[0] <= e.effective_date.replace(day=1) <= w[1]
            for e in events
        ):
            ok.append("price_above_list")
        usage = {s for s, k in kinds.items() if k == "usage"}
        if usage:
            ok.append("usage_spike")
            last = {}
            for e in sorted(events, key=lambda e: (e.effective_date, e.recorded_at)):
                last[e.subscription_id] = e
            if any(last[s].event_type == "cancel" for s in usage if s in last):
                ok.append("usage_after_cancellation")
        self.kind = self.rng.choice(ok)

    def _window(self, first: dt.date) -> tuple[dt.date, dt.date] | None:
        """First and last month a planted event may fall in: MIN_HISTORY months after `first`,
        at least two months before the extract's end."""
        lo = add_months(first.replace(day=1), MIN_HISTORY)
        hi = add_months(self.p.end.replace(day=1), -2)
        return (lo, hi) if lo <= hi else None

    def _pick_month(
        self, first: dt.date, last: dt.date | None = None, avoid: frozenset = frozenset()
    ) -> dt.date | None:
        """A month of the window (up to `last`), not one of `avoid`."""
        w = self._window(first)
        if w is None:
            return None
        lo, hi = w
        if last is not None:
            hi = min(hi, last.replace(day=1))
        if hi < lo:
            return None
        n = _months(hi) - _months(lo)
        months = [add_months(lo, k) for k in range(n + 1)]
        ok = [m for m in months if m not in avoid]
        return self.rng.choice(ok) if ok else None

    def _changed(self, events: list[Event]) -> frozenset:
        """Months in which, or the month after which, a subscription was activated, changed or
        resumed: a new level there is explained, so an unexplained spike is planted elsewhere."""
        out = set()
        for e in events:
            if e.event_type in ("activate", "change", "resume"):
                m = e.effective_date.replace(day=1)
                out |= {m, add_months(m, 1)}
        return frozenset(out)

    def add(self, month: dt.date, rows: list[str], detail: str) -> None:
        self.truth.append(
            (self.a.account_id, month.isoformat(), self.kind, " ".join(sorted(rows)), detail)
        )

    # --- hooks -----------------------------------------------------------------------------------
    def events(self, events: list[Event], plans: dict) -> list[Event]:
        """price_above_list: one recurring activate/change/renew priced 60 % over list."""
        if self.selected and events:
            self._choose(events, plans)
        if self.kind != "price_above_list" or not events:
            return events
        first = min(e.effective_date for e in events)
        w = self._window(first)
        if w is None:
            return events
        ok = [
            k
            for k, e in enumerate(events)
            if e.event_type in ("activate", "change", "renew")
            and plans.get(e.plan_id or _kind_plan(events, e), _NONE).charge_type == "recurring"
            and w[0] <= e.effective_date.replace(day=1) <= w[1]
        ]
        if not ok:
            return events
        k = self.rng.choice(ok)
        e = events[k]
        pid = e.plan_id or _kind_plan(events, e)
        e = replace(e, plan_id=pid)
        places = Decimal("1") if e.currency == "JPY" else Decimal("0.01")
        price = (plans[e.plan_id].unit_price * PRICE_ABOVE).quantize(places)
        out = list(events)
        out[k] = replace(e, unit_price=price)
        m = e.effective_date.replace(day=1)
        self.add(m, [e.event_id], f"unit_price {price} vs list {plans[e.plan_id].unit_price}")
        return out

    def usage(self, out: AccountOut, totals: dict, events: list[Event]) -> None:
        """usage_spike: one month of a usage subscription metered 6x; usage_after_cancellation:
        ten days of usage in the month after a usage subscription's (last) cancel."""
        self._events = events
        if self.kind == "usage_spike":
            self._usage_spike(out, totals)
        elif self.kind == "usage_after_cancellation":
            self._after_cancel(out, events)

    def _usage_spike(self, out: AccountOut, totals: dict) -> None:
        if not out.usage:
            return
        part = out.usage[self.rng.randrange(len(out.usage))]
        first = dt.date.fromordinal(int(part["occ"][0])) if len(part["occ"]) else None
        if first is None:
            return
        last = dt.date.fromordinal(int(part["occ"][-1]))
        m = self._pick_month(
            first, add_months(last.replace(day=1), -1), self._changed(self._events)
        )
        if m is None:
            return
        lo, hi = m.toordinal(), add_months(m, 1).toordinal()
        mask = (part["occ"] >= lo) & (part["occ"] < hi)
        if not mask.any():
            return
        part["qty"] = np.where(mask, part["qty"] * int(SPIKE), part["qty"])
        key = (part["sid"], m)
        totals[key] = Decimal(int(part["qty"][mask].sum()))
        days = part["occ"][mask]
        ids = [_usage_id(part["sid"], d) for d in days[:3]]
        self.add(m, ids, f"{part['sid']} usage x{SPIKE} in {m.isoformat()[:7]}")

    def _after_cancel(self, out: AccountOut, events: list[Event]) -> None:
        by_sid: dict[str, list[Event]] = {}
        for e in events:
            by_sid.setdefault(e.subscription_id, []).append(e)
        cands = []
        for part in out.usage:
            evs = sorted(
                by_sid.get(part["sid"], []), key=lambda e: (e.effective_date, e.recorded_at)
            )
            if not evs or evs[-1].event_type != "cancel" or not len(part["occ"]):
                continue
            # from the 4th of the month after the cancel: the cancel month is still rated whole
            start = add_months(evs[-1].effective_date.replace(day=1), 1) + dt.timedelta(days=3)
            w = self._window(evs[0].effective_date)
            if w and start + dt.timedelta(days=10) <= self.p.end and start.replace(day=1) >= w[0]:
                cands.append((part, start))
        if not cands:
            return
        part, start = cands[self.rng.randrange(len(cands))]
        occ = np.arange(start.toordinal(), start.toordinal() + 10, dtype=np.int64)
        out.usage.append(
            dict(
                sid=part["sid"],
                acct=part["acct"],
                metric=part["metric"],
                occ=occ,
                rec=occ + 1,
                recv_s=np.full(10, 7200, dtype=np.int64),
                qty=np.full(10, max(1, int(np.median(part["qty"]))), dtype=np.int64),
            )
        )
        ids = [_usage_id(part["sid"], d) for d in occ]
        self.add(start.replace(day=1), ids[:3], f"{part['sid']} usage from {start}")

    def charges(
        self, lines: list[Line], contract_id: str, events: list[Event]
    ) -> list[tuple[Charge, str]]:
        """invoice_total_spike: a one-time charge of 6x the account's median month."""
        if self.kind != "invoice_total_spike" or not lines:
            return []
        monthly: dict[dt.date, Decimal] = {}
        for ln in lines:
            monthly[ln.line_date.replace(day=1)] = (
                monthly.get(ln.line_date.replace(day=1), Decimal(0)) + ln.amount
            )
        months = sorted(m for m, v in monthly.items() if v > 0)
        if len(months) < MIN_HISTORY:
            return []
        m = self._pick_month(months[0], months[-1], self._changed(events))
        if m is None or sum(1 for x in months if x < m) < MIN_HISTORY:
            return []
        amt = money(Decimal(str(median(monthly[x] for x in months if x < m))) * SPIKE)
        if amt <= 0:
            return []
        day = m + dt.timedelta(days=14)
        cid = f"CHG-{self.a.n:07d}-99"
        self.add(m, [cid], f"one-time charge {amt} {self.a.currency}")
        pid = plan_id("SVC-IMPL-ENT", self.a.currency)
        return [(Charge(cid, self.a.account_id, pid, amt, day, self.a.currency), contract_id)]

    def pick_double(self, lines: list[Line]) -> None:
        """duplicate_line: a recurring line of a month in the window, billed twice."""
        if self.kind != "duplicate_line":
            return
        rec = [ln for ln in lines if ln.line_type == "recurring" and ln.amount > 0]
        if not rec:
            return
        w = self._window(min(ln.line_date for ln in lines))
        ok = [ln for ln in rec if w and w[0] <= ln.line_date.replace(day=1) <= w[1]]
        if ok:
            ln = self.rng.choice(ok)
            self.double_key = (ln.subscription_id, ln.period_start)

    def doubled(self, amount: Decimal) -> None:
        """The billing system billed the chosen key twice."""
        self._double_amount = amount

    def after_issue(self, out: AccountOut) -> None:
        """The invoice lines of a key billed twice (both), for the truth manifest."""
        amount = getattr(self, "_double_amount", None)
        if amount is None or self.double_key is None:
            return
        sid, ps = self.double_key
        cols = _cols("billing.invoice_lines")
        ids = [
            r[2]
            for r in out.rows.get("billing.invoice_lines", [])
            if dict(zip(cols, r[2:], strict=True))["subscription_id"] == sid
            and dict(zip(cols, r[2:], strict=True))["period_start"] == ps.isoformat()
        ]
        self.add(ps.replace(day=1), ids, f"{sid} {ps} billed twice, {amount} each")

    def credit(self, billing: object, out: AccountOut) -> None:
        """credit_note_spike: a goodwill credit note of 8x the account's median invoice month."""
        if self.kind != "credit_note_spike":
            return
        monthly: dict[str, Decimal] = {}
        for r in out.rows.get("billing.invoices", []):
            row = dict(zip(COLS_INV, r[2:], strict=True))
            if row["status"] == "void":
                continue
            monthly[row["invoice_id"]] = (row["invoice_date"][:7], Decimal(row["total"]))
        per_month: dict[str, Decimal] = {}
        for m, t in monthly.values():
            per_month[m] = per_month.get(m, Decimal(0)) + t
        months = sorted(per_month)
        if len(months) < MIN_HISTORY:
            return
        m = self._pick_month(dt.date.fromisoformat(months[0] + "-01"))
        if m is None:
            return
        prior = [v for k, v in per_month.items() if k < m.isoformat()[:7]]
        if len(prior) < MIN_HISTORY:
            return
        amt = money(Decimal(str(median(prior))) * 8)
        if amt <= 0:
            return
        day = m + dt.timedelta(days=self.rng.randint(3, 25))
        billing._credit_notes += 1
        cid = f"CRN-{self.a.n:07d}-{billing._credit_notes:03d}"
        billing._credit_note(day, None, amt, "goodwill")
        self.add(m, [cid], f"credit note {amt} {self.a.currency}")


def _usage_id(sid: str, ordinal: int) -> str:
    """The id the generator gives a subscription's usage row of a day (core._usage_frame)."""
    return f"USG-{sid[4:]}-{dt.date.fromordinal(int(ordinal)).strftime('%Y%m%d')}"


class _None:
    charge_type = None


_NONE = _None()


def _kind_plan(events: list[Event], e: Event) -> str | None:
    """The plan of the subscription's first event (a renew may omit it)."""
    return next((x.plan_id for x in events if x.subscription_id == e.subscription_id), None)


def _cols(name: str) -> tuple[str, ...]:
    from pipelines.contract import table

    return table(name).column_names


COLS_INV = _cols("billing.invoices")
