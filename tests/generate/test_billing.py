"""The billing simulator follows R3 (docs/dev/billing-rules.md): the worked examples on hand-made
subscriptions, and the whole generated company once its injected exceptions are removed."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal as D

from pipelines.generate.billing import Charge, Event, Plan, add_months, compute_lines

from .helpers import END, all_tables

d = dt.date
SEAT = Plan("P-SEAT", "recurring", D("100.00"), 1)
API = Plan("P-API", "usage", D("0.01"), None, D(1000), "api_calls")
PLANS = {
    p.plan_id: p
    for p in (
        SEAT,
        API,
        Plan("P-ANN", "recurring", D("1000"), 12),
        Plan("P-FEE", "one_time", D("5000")),
    )
}


def ev(eid, sub, etype, day, plan=None, qty=None, price=None, rec=None):
    return Event(
        eid,
        sub,
        "A1",
        etype,
        day,
        rec or f"{day.isoformat()}T09:00:00Z",
        plan,
        None if qty is None else D(qty),
        None if price is None else D(price),
    )


def lines(events, usage=None, charges=(), as_of=d(2025, 12, 31)):
    return [
        (ln.line_date, ln.line_type, ln.period_start, ln.period_end, ln.quantity, ln.amount)
        for ln in compute_lines(events, PLANS, usage, charges, as_of)
    ]


def test_worked_example_seat_change_and_cancel():
    got = lines(
        [
            ev("e1", "S", "activate", d(2025, 1, 15), "P-SEAT", 10),
            ev("e2", "S", "change", d(2025, 3, 10), "P-SEAT", 15),
            ev("e3", "S", "cancel", d(2025, 4, 1)),
        ]
    )
    assert [(x[0], x[5]) for x in got] == [
        (d(2025, 1, 15), D("1000.00")),
        (d(2025, 2, 15), D("1000.00")),
        (d(2025, 3, 10), D("-178.57")),
        (d(2025, 3, 10), D("267.86")),
        (d(2025, 3, 15), D("1500.00")),
        (d(2025, 4, 1), D("-677.42")),
    ]
    assert got[2][2:5] == (d(2025, 3, 10), d(2025, 3, 15), D(10))
    assert got[3][2:5] == (d(2025, 3, 10), d(2025, 3, 15), D(15))


def test_worked_example_month_end_anchor():
    got = lines([ev("e1", "M", "activate", d(2025, 1, 31), "P-SEAT", 1)], as_of=d(2025, 4, 30))
    assert [x[2] for x in got] == [d(2025, 1, 31), d(2025, 2, 28), d(2025, 3, 31), d(2025, 4, 30)]
    assert add_months(d(2025, 1, 31), 2) == d(2025, 3, 31)  # added to the anchor, not chained


def test_worked_example_usage():
    usage = {("U", d(2025, 1, 1)): D(1500), ("U", d(2025, 2, 1)): D(800)}
    got = lines([ev("e1", "U", "activate", d(2025, 1, 1), "P-API", 1)], usage, as_of=d(2025, 3, 1))
    assert got == [
        (d(2025, 2, 1), "usage", d(2025, 1, 1), d(2025, 2, 1), D(500), D("5.00")),
        (d(2025, 3, 1), "usage", d(2025, 2, 1), d(2025, 3, 1), D(0), D("0.00")),
    ]


def test_first_day_change_pause_resume_reanchor_one_time():
    got = lines(
        [
            ev("e1", "S", "activate", d(2025, 1, 1), "P-SEAT", 2),
            ev("e2", "S", "change", d(2025, 2, 1), "P-SEAT", 3),  # first day: no proration
            ev("e3", "S", "renew", d(2025, 2, 10), "P-SEAT", 3, "100.00"),  # no-op: no line
            ev("e4", "S", "pause", d(2025, 3, 1)),  # first day: not billed
            ev("e5", "S", "resume", d(2025, 4, 10)),  # re-anchors
            ev("e6", "S", "change", d(2025, 4, 20), "P-ANN", 3),
        ],  # other period: re-anchor
        charges=[Charge("C1", "A1", "P-FEE", D("5000.005"), d(2025, 1, 5))],
        as_of=d(2025, 5, 31),
    )
    assert got == [
        (d(2025, 1, 1), "recurring", d(2025, 1, 1), d(2025, 2, 1), D(2), D("200.00")),
        (d(2025, 2, 1), "recurring", d(2025, 2, 1), d(2025, 3, 1), D(3), D("300.00")),
        (d(2025, 4, 10), "recurring", d(2025, 4, 10), d(2025, 5, 10), D(3), D("300.00")),
        (d(2025, 4, 20), "proration", d(2025, 4, 20), d(2025, 5, 10), D(3), D("-200.00")),
        (d(2025, 4, 20), "recurring", d(2025, 4, 20), d(2026, 4, 20), D(3), D("3000.00")),
        (d(2025, 1, 5), "one_time", d(2025, 1, 5), d(2025, 1, 6), D(1), D("5000.01")),
    ]


def _r9(lines_):
    sums = defaultdict(lambda: D(0))
    for ref, ps, amt in lines_:
        sums[(ref, ps)] += amt
    return sums


def test_generated_billing_is_r3_plus_listed_exceptions(clean):
    """Issued lines (void invoices excluded) == R3 recomputed from the extracts, except exactly
    the keys in billing_exceptions.csv, with the amounts listed there."""
    root, res = clean
    data = all_tables(root, upto=END.isoformat())
    plans = {
        r["plan_id"]: Plan(
            r["plan_id"],
            r["charge_type"],
            D(r["unit_price"]),
            int(r["billing_period_months"] or 0) or None,
            D(r["included_units"] or 0),
            r["usage_metric"],
            r["currency"],
        )
        for r in data["billing.plans"]
    }
    events = [
        Event(
            r["event_id"],
            r["subscription_id"],
            r["account_id"],
            r["event_type"],
            d.fromisoformat(r["effective_date"]),
            r["recorded_at"],
            r["plan_id"],
            D(r["quantity"]) if r["quantity"] else None,
            D(r["unit_price"]) if r["unit_price"] else None,
            r["currency"],
        )
        for r in data["billing.subscription_events"]
    ]
    usage = defaultdict(lambda: D(0))
    for u in data["billing.usage"]:
        usage[(u["subscription_id"], d.fromisoformat(u["occurred_at"][:8] + "01"))] += D(
            u["quantity"]
        )
    charges = [
        Charge(
            r["charge_id"],
            r["account_id"],
            r["plan_id"],
            D(r["amount"]),
            d.fromisoformat(r["milestone_date"]),
            r["currency"],
        )
        for r in data["billing.one_time_charges"]
    ]
    expected = _r9(
        (ln.subscription_id or ln.charge_id, ln.period_start.isoformat(), ln.amount)
        for ln in compute_lines(events, plans, usage, charges, END)
    )
    void = {r["invoice_id"] for r in data["billing.invoices"] if r["status"] == "void"}
    issued = _r9(
        (r["subscription_id"] or r["charge_id"], r["period_start"], D(r["amount"]))
        for r in data["billing.invoice_lines"]
        if r["invoice_id"] not in void
    )
    with open(res.truth_dir / "billing_exceptions.csv", encoding="utf-8", newline="") as fh:
        exc = [e for e in csv.DictReader(fh) if e["line_date"] <= END.isoformat()]
    assert exc, "the default exception rate injects some exceptions"
    listed = {}
    for e in exc:
        listed[(e["subscription_id"] or e["charge_id"], e["period_start"])] = e
    for k in set(expected) | set(issued):
        exp, got = expected.get(k, D(0)), issued.get(k, D(0))
        if k in listed:
            e = listed[k]
            assert (D(e["expected_amount"]), D(e["issued_amount"])) == (exp, got), (k, e)
            if e["exception_type"] == "missing_in_billing":
                assert k not in issued
            elif e["exception_type"] == "unexpected_in_billing":
                assert k not in expected
            else:
                assert abs(exp - got) > D("0.01")
        else:
            assert exp == got and (k in expected) == (k in issued), (k, exp, got)
