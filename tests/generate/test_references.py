"""Referential rules (docs/metrics.md Q1) hold on clean output."""

from __future__ import annotations

import bisect
from collections import defaultdict

from pipelines.contract import TABLES

from .helpers import all_tables


def test_every_reference_exists(clean):
    root, _ = clean
    data = all_tables(root)
    for t in TABLES:
        for c in t.columns:
            if not c.references:
                continue
            target, col = c.references
            ids = {r[col] for r in data[target]}
            missing = {r[c.name] for r in data[t.qualified_name] if r[c.name]} - ids
            assert not missing, (t.qualified_name, c.name, sorted(missing)[:5])


def test_fx_rate_on_or_before_every_money_day(clean):
    root, _ = clean
    data = all_tables(root)
    rates = defaultdict(list)
    for r in data["reference.fx_rates"]:
        rates[r["currency"]].append(r["rate_date"])
    for v in rates.values():
        v.sort()
    day_cols = {
        "billing.invoices": "invoice_date",
        "billing.payments": "attempted_at",
        "billing.credit_notes": "issued_date",
        "billing.one_time_charges": "milestone_date",
        "billing.subscription_events": "effective_date",
        "crm.opportunities": "created_at",
        "procurement.vendor_bills": "service_period_start",
        "procurement.purchase_orders": "requested_at",
        "crm.contracts": "start_date",
    }
    currencies = set()
    for name, col in day_cols.items():
        for r in data[name]:
            ccy, day = r["currency"], r[col][:10]
            currencies.add(ccy)
            if ccy != "USD":
                assert bisect.bisect_right(rates[ccy], day) > 0, (name, ccy, day)
    assert currencies >= {"USD", "EUR", "GBP", "JPY"}


def test_usage_metric_matches_usage_plan(clean):
    root, _ = clean
    data = all_tables(root)
    plans = {r["plan_id"]: r for r in data["billing.plans"]}
    sub_plan = {}
    for e in data["billing.subscription_events"]:
        if e["event_type"] == "activate":
            sub_plan[e["subscription_id"]] = plans[e["plan_id"]]
    for u in data["billing.usage"]:
        p = sub_plan[u["subscription_id"]]
        assert p["charge_type"] == "usage" and p["usage_metric"] == u["usage_metric"], u
    # one currency per subscription = account = plan
    acct_ccy = {a["account_id"]: a["currency"] for a in data["crm.accounts"]}
    for e in data["billing.subscription_events"]:
        assert e["currency"] == acct_ccy[e["account_id"]]
        if e["plan_id"]:
            assert plans[e["plan_id"]]["currency"] == e["currency"]
