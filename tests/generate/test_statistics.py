"""The simulated company is plausible (issue 3): churn, annual share, currencies, late usage,
support-to-renewal correlation, governance breaches."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal as D

from pipelines.generate.billing import Event, Plan, active_intervals, add_months

from .helpers import all_tables


def _mrr(data) -> tuple[dict, list[dt.date], dict]:
    """(account, month end) -> MRR and -> annual-plan MRR, from R2 segments."""
    plans = {
        r["plan_id"]: Plan(
            r["plan_id"],
            r["charge_type"],
            D(r["unit_price"]),
            int(r["billing_period_months"] or 0) or None,
        )
        for r in data["billing.plans"]
    }
    subs = defaultdict(list)
    for r in data["billing.subscription_events"]:
        subs[r["subscription_id"]].append(
            Event(
                r["event_id"],
                r["subscription_id"],
                r["account_id"],
                r["event_type"],
                dt.date.fromisoformat(r["effective_date"]),
                r["recorded_at"],
                r["plan_id"],
                D(r["quantity"]) if r["quantity"] else None,
                D(r["unit_price"]) if r["unit_price"] else None,
            )
        )
    ends = []
    m = dt.date(2023, 1, 1)
    while m < dt.date(2026, 10, 1):
        ends.append(add_months(m, 1) - dt.timedelta(days=1))
        m = add_months(m, 1)
    mrr, annual = defaultdict(lambda: D(0)), defaultdict(lambda: D(0))
    for evs in subs.values():
        evs.sort(key=lambda e: (e.effective_date, e.recorded_at, e.event_id))
        if plans[evs[0].plan_id].charge_type != "recurring":
            continue
        for s, e, (pid, q, p) in active_intervals(evs, plans):
            n = plans[pid].billing_period_months
            for me in ends:
                if s <= me and (e is None or me < e):
                    mrr[(evs[0].account_id, me)] += q * p / n
                    if n == 12:
                        annual[(evs[0].account_id, me)] += q * p / n
    return mrr, ends, annual


def test_company_statistics(company):
    root, _ = company
    data = all_tables(root)
    mrr, ends, annual = _mrr(data)
    accounts = {a["account_id"] for a in data["crm.accounts"]}
    rates = []
    for prev, cur in itertools.pairwise(ends[6:]):
        base = [a for a in accounts if mrr.get((a, prev), 0) > 0]
        churned = [a for a in base if mrr.get((a, cur), 0) == 0]
        if len(base) >= 50:
            rates.append(len(churned) / len(base))
    avg = sum(rates) / len(rates)
    assert 0.005 <= avg <= 0.04, avg
    # annual plans carry >= 15% of MRR (per currency, so no FX needed; USD book)
    ccy = {a["account_id"]: a["currency"] for a in data["crm.accounts"]}
    last = ends[-1]
    tot = sum(v for (a, me), v in mrr.items() if me == last and ccy[a] == "USD")
    ann = sum(v for (a, me), v in annual.items() if me == last and ccy[a] == "USD")
    assert ann / tot >= D("0.15"), ann / tot
    assert len({a["currency"] for a in data["crm.accounts"]}) >= 3
    assert {a["segment"] for a in data["crm.accounts"]} == {"smb", "mid_market", "enterprise"}
    assert any(a["parent_account_id"] for a in data["crm.accounts"])


def test_usage_late_arrivals(company):
    root, _ = company
    usage = all_tables(root)["billing.usage"]
    late = [
        u
        for u in usage
        if (
            dt.date.fromisoformat(u["received_at"][:10])
            - dt.date.fromisoformat(u["occurred_at"][:10])
        ).days
        > 1
    ]
    assert late
    after_close = [u for u in late if u["received_at"][:7] > u["occurred_at"][:7]]
    assert after_close


def test_lifecycle_variety(company):
    root, _ = company
    data = all_tables(root)
    ev = data["billing.subscription_events"]
    kinds = {e["event_type"] for e in ev}
    assert kinds == {"activate", "change", "pause", "resume", "cancel", "renew"}
    assert any(e["recorded_at"][:10] > e["effective_date"] for e in ev)  # backdated
    plans = {p["plan_id"]: p for p in data["billing.plans"]}
    assert any(
        e["unit_price"] and plans[e["plan_id"]]["unit_price"] != e["unit_price"]
        for e in ev
        if e["event_type"] == "activate"
    )  # negotiated discounts
    by_acct = defaultdict(set)
    for e in ev:
        if e["event_type"] == "activate":
            by_acct[e["account_id"]].add(plans[e["plan_id"]]["charge_type"])
    hybrid = sum(1 for v in by_acct.values() if {"recurring", "usage"} <= v)
    assert hybrid / len(by_acct) > 0.25
    activations = defaultdict(int)
    for e in ev:
        if e["event_type"] == "activate" and plans[e["plan_id"]]["charge_type"] == "recurring":
            activations[e["account_id"]] += 1
    assert any(n > 1 for n in activations.values())  # reactivations (new subscription ids)
    pays = data["billing.payments"]
    assert {"succeeded", "failed", "refunded"} <= {p["status"] for p in pays}
    assert {"paid", "open", "void"} <= {i["status"] for i in data["billing.invoices"]}
    con = data["crm.contracts"]
    assert any(c["approved_by"] == c["created_by"] for c in con)  # SoD breaches
    assert {"live", "stalled"} <= {i["status"] for i in data["support.implementations"]}
    bills = data["procurement.vendor_bills"]
    assert any(b["cost_type"] == "opex" for b in bills)
    assert any(b["account_id"] for b in bills)


def test_poor_support_predicts_churn(company):
    """Accounts whose tickets were many or unhappy churn more often (R10 support-to-renewal)."""
    root, _ = company
    data = all_tables(root)
    cancels = {
        e["account_id"] for e in data["billing.subscription_events"] if e["event_type"] == "cancel"
    }
    csat = defaultdict(list)
    for t in data["support.tickets"]:
        if t["csat_score"]:
            csat[t["account_id"]].append(int(t["csat_score"]))
    low = [a for a, v in csat.items() if sum(v) / len(v) < 3.5]
    high = [a for a, v in csat.items() if sum(v) / len(v) >= 4.2]
    rate = lambda xs: sum(a in cancels for a in xs) / len(xs)  # noqa: E731
    assert low and high and rate(low) > rate(high), (rate(low), rate(high))
