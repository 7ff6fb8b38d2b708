"""The simulated company, one account at a time. An account's story reads as the business runs:
the CRM opens the account and closes a first deal; support runs the onboarding project and
answers tickets; the subscriptions live month by month (their churn driven by how support went);
the metering system counts usage; the billing system records it all and invoices, collects and
credits. Every account draws from its own seeded generator, in that order, so an account's rows
do not depend on how accounts are chunked."""

from __future__ import annotations

import random

from pipelines.generate.account import AccountOut
from pipelines.generate.billing import compute_lines
from pipelines.generate.billing_system import BillingSystem
from pipelines.generate.common import DAY
from pipelines.generate.crm import Crm, negotiate, open_account
from pipelines.generate.params import Params
from pipelines.generate.plant import Planter
from pipelines.generate.subscriptions import SubscriptionLife
from pipelines.generate.support import Support
from pipelines.generate.usage import meter


def simulate_account(p: Params, i: int) -> AccountOut:
    """Every row account i (0-based) contributes, known up to the horizon."""
    rng = random.Random(p.seed * 1_000_003 + i)
    out = AccountOut()
    a = open_account(p, i, rng, out)
    crm = Crm(a, rng, out)
    deal = negotiate(p, a, rng)
    contract = crm.close_deal(deal, p.horizon)
    if contract is None:
        return out
    support = Support(p, a, rng, out)
    charges = []
    if rng.random() < a.profile.implementation_p:
        charges = support.implementation(contract, deal.close)
    life = SubscriptionLife(p, a, rng, crm, support.tickets(contract.start), deal, contract)
    life.run()
    support.before_leaving(life.departures)  # a leaving customer complains first (own stream)
    if life.base.ended:  # a lost customer stops raising tickets a month after leaving
        support.forget_after(life.log.last_cancel() + 30 * DAY)
    planter = Planter(p, a)  # planted anomalies (plant.py): a separate stream, most accounts none
    events = planter.events(life.log.known_by(p.horizon), p.plans)
    usage = meter(p, a, out, events, life.usage_all)
    planter.usage(out, usage, events)
    billing = BillingSystem(p, a, rng, out)
    billing.record_events(events, life.log.contract_of)
    if planter.kind == "invoice_total_spike":
        first = compute_lines(events, p.plans, usage, [c for c, _ in charges], p.horizon)
        charges = charges + planter.charges(first, contract.contract_id, events)
    due = billing.record_charges(charges)
    lines = compute_lines(events, p.plans, usage, due, p.horizon)
    planter.pick_double(lines)
    billing.planter = planter
    billing.issue(lines, events)
    planter.after_issue(out)
    planter.credit(billing, out)
    out.anomalies = planter.truth
    return out
