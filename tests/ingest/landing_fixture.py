"""Hand-made landing folders: a tiny consistent company over a few daily extracts, and bad rows
with known reason codes (until `pipelines.generate` exists, and as a fast fixture after)."""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines.contract import TABLES

DAYS = ("2026-01-01", "2026-01-02", "2026-01-03")


def clean_rows(day: str, n: int = 0) -> dict[str, list[dict[str, str]]]:
    """Rows of every table for one extract. `n` (0-based extract number) varies append tables."""
    ts = f"{day}T08:00:00Z"
    s = f"{n}"
    rows: dict[str, list[dict[str, str]]] = {
        "crm.accounts": [
            {
                "account_id": "A1",
                "account_name": "Acme",
                "segment": "smb",
                "region": "na",
                "country": "US",
                "currency": "USD",
                "created_at": "2025-12-01T00:00:00Z",
                "updated_at": ts,
            },
            {
                "account_id": "A2",
                "account_name": "Bolt",
                "segment": "enterprise",
                "region": "emea",
                "country": "DE",
                "currency": "EUR",
                "created_at": "2025-12-01T00:00:00+01:00",
                "updated_at": ts,
            },
        ],
        "crm.opportunities": [
            {
                "opportunity_id": f"O{s}",
                "account_id": "A1",
                "opportunity_type": "new_business",
                "stage": "closed_won",
                "amount": "1200.50",
                "currency": "USD",
                "close_date": day,
                "created_at": ts,
                "updated_at": ts,
            },
        ],
        "crm.contracts": [
            {
                "contract_id": f"C{s}",
                "account_id": "A1",
                "opportunity_id": f"O{s}",
                "status": "active",
                "start_date": day,
                "term_months": "12",
                "auto_renew": "true",
                "total_contract_value": "1200.50",
                "currency": "USD",
                "created_by": "sam",
                "updated_at": ts,
            },
        ],
        "billing.plans": [
            {
                "plan_id": "P1",
                "product_id": "PR1",
                "product_name": "Core",
                "product_family": "platform",
                "charge_type": "recurring",
                "billing_period_months": "1",
                "unit_price": "100",
                "currency": "USD",
                "active": "true",
                "updated_at": "2025-12-01T00:00:00Z",
            },
            {
                "plan_id": "P2",
                "product_id": "PR2",
                "product_name": "API",
                "product_family": "analytics",
                "charge_type": "usage",
                "unit_price": "0.01",
                "included_units": "1000",
                "usage_metric": "api_calls",
                "currency": "EUR",
                "active": "true",
                "updated_at": "2025-12-01T00:00:00Z",
            },
            {
                "plan_id": "P3",
                "product_id": "PR3",
                "product_name": "Setup",
                "product_family": "services",
                "charge_type": "one_time",
                "unit_price": "500",
                "currency": "USD",
                "active": "true",
                "updated_at": "2025-12-01T00:00:00Z",
            },
        ],
        "billing.subscription_events": [
            {
                "event_id": f"E{s}a",
                "subscription_id": f"S{s}a",
                "account_id": "A1",
                "contract_id": f"C{s}",
                "event_type": "activate",
                "effective_date": day,
                "plan_id": "P1",
                "quantity": "10",
                "currency": "USD",
                "recorded_at": ts,
            },
            {
                "event_id": f"E{s}b",
                "subscription_id": f"S{s}b",
                "account_id": "A2",
                "event_type": "activate",
                "effective_date": day,
                "plan_id": "P2",
                "quantity": "1",
                "currency": "EUR",
                "recorded_at": ts,
            },
        ],
        "billing.usage": [
            {
                "usage_id": f"U{s}",
                "subscription_id": f"S{s}b",
                "account_id": "A2",
                "usage_metric": "api_calls",
                "quantity": "1500",
                "occurred_at": ts,
                "received_at": ts,
            },
        ],
        "billing.one_time_charges": [
            {
                "charge_id": f"CH{s}",
                "account_id": "A1",
                "contract_id": f"C{s}",
                "plan_id": "P3",
                "description": "setup, phase 1",
                "amount": "500",
                "currency": "USD",
                "milestone_date": day,
            },
        ],
        "billing.invoices": [
            {
                "invoice_id": f"I{s}",
                "account_id": "A1",
                "invoice_date": day,
                "due_date": day,
                "currency": "USD",
                "subtotal": "1000",
                "tax": "0",
                "total": "1000",
                "status": "open",
                "updated_at": ts,
            },
        ],
        "billing.invoice_lines": [
            {
                "invoice_line_id": f"L{s}",
                "invoice_id": f"I{s}",
                "subscription_id": f"S{s}a",
                "plan_id": "P1",
                "period_start": day,
                "period_end": day,
                "quantity": "10",
                "amount": "1000",
            },
        ],
        "billing.payments": [
            {
                "payment_id": f"PAY{s}",
                "invoice_id": f"I{s}",
                "account_id": "A1",
                "amount": "1000",
                "currency": "USD",
                "status": "succeeded",
                "attempted_at": ts,
            },
        ],
        "billing.credit_notes": [
            {
                "credit_note_id": f"CN{s}",
                "invoice_id": f"I{s}",
                "account_id": "A1",
                "amount": "10",
                "currency": "USD",
                "reason": "goodwill",
                "issued_date": day,
            },
        ],
        "support.tickets": [
            {
                "ticket_id": f"T{s}",
                "account_id": "A1",
                "created_at": ts,
                "priority": "high",
                "category": "billing",
                "status": "solved",
                "handle_minutes": "12.5",
                "csat_score": "5",
                "updated_at": ts,
            },
        ],
        "support.implementations": [
            {
                "implementation_id": f"IM{s}",
                "account_id": "A1",
                "contract_id": f"C{s}",
                "status": "in_progress",
                "kickoff_date": day,
                "hours_logged": "3",
                "updated_at": ts,
            },
        ],
        "procurement.vendors": [
            {
                "vendor_id": "V1",
                "vendor_name": "Cloudy",
                "category": "cloud_hosting",
                "country": "US",
                "currency": "USD",
                "payment_terms_days": "30",
                "updated_at": ts,
            },
        ],
        "procurement.purchase_orders": [
            {
                "po_id": f"PO{s}",
                "vendor_id": "V1",
                "status": "approved",
                "requested_by": "ann",
                "requested_at": ts,
                "amount": "99.99",
                "currency": "USD",
                "cost_type": "cogs",
                "updated_at": ts,
            },
        ],
        "procurement.vendor_bills": [
            {
                "bill_id": f"B{s}",
                "vendor_id": "V1",
                "po_id": f"PO{s}",
                "bill_date": day,
                "service_period_start": day,
                "service_period_end": day,
                "amount": "99.99",
                "currency": "USD",
                "cost_type": "cogs",
                "status": "received",
                "updated_at": ts,
            },
        ],
        "reference.fx_rates": [
            {"rate_date": day, "currency": "EUR", "units_per_usd": "0.92"},
            {"rate_date": day, "currency": "GBP", "units_per_usd": "0.79"},
        ],
    }
    return rows


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="raise")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})


def write_extract(landing: Path, day: str, rows: dict[str, list[dict[str, str]]]) -> None:
    for t in TABLES:
        if t.qualified_name not in rows:
            continue
        header = list(t.column_names)
        for r in rows[t.qualified_name]:
            header += [k for k in r if k not in header]
        write_csv(landing / t.source / t.name / f"{day}.csv", header, rows[t.qualified_name])


def write_clean(landing: Path, days: tuple[str, ...] = DAYS[:2]) -> Path:
    for n, day in enumerate(days):
        write_extract(landing, day, clean_rows(day, n))
    return landing


#: Bad rows appended to extract 0: (table, column, bad value, reason_code).
BAD_CELLS: tuple[tuple[str, str, str, str], ...] = (
    ("crm.opportunities", "amount", "1,200.00", "bad_type"),
    ("crm.opportunities", "stage", "won", "bad_enum"),
    ("crm.opportunities", "amount", "-5", "negative_amount"),
    ("crm.contracts", "start_date", "2026/01/05", "bad_type"),
    ("crm.contracts", "auto_renew", "yes", "bad_type"),
    ("crm.contracts", "currency", "usd", "bad_currency"),
    ("crm.accounts", "country", "USA", "bad_country"),
    ("crm.accounts", "account_name", "", "missing_required"),
    ("billing.subscription_events", "plan_id", "", "missing_required"),  # activate needs plan
    ("billing.subscription_events", "recorded_at", "2026-01-01T25:00:00Z", "bad_type"),
    ("billing.plans", "billing_period_months", "2", "out_of_range"),
    ("support.tickets", "csat_score", "7", "out_of_range"),
    ("support.tickets", "handle_minutes", "12.34567", "bad_type"),
    ("billing.credit_notes", "amount", "0", "negative_amount"),
    ("reference.fx_rates", "units_per_usd", "abc", "bad_type"),
)


def write_with_bad_rows(landing: Path) -> list[tuple[str, str, int, str, str]]:
    """Clean extracts 0 and 1, bad rows appended to extract 0, plus one in-file duplicate.
    Returns the truth: (table, file, row_number, column, reason_code)."""
    rows0 = clean_rows(DAYS[0], 0)
    truth: list[tuple[str, str, int, str, str]] = []
    for i, (qn, col, value, code) in enumerate(BAD_CELLS):
        base = dict(rows0[qn][0])
        base[_key(qn)] = f"{base[_key(qn)]}_bad{i}"
        if qn == "reference.fx_rates":
            base["rate_date"], base["currency"] = DAYS[0], f"X{chr(65 + i)}Z"
        base[col] = value
        rows0[qn].append(base)
        src, tbl = qn.split(".")
        truth.append((qn, f"{src}/{tbl}/{DAYS[0]}.csv", len(rows0[qn]), col, code))
    dup = dict(rows0["support.tickets"][0])
    dup["status"] = "closed"
    rows0["support.tickets"].append(dup)
    truth.append(
        (
            "support.tickets",
            f"support/tickets/{DAYS[0]}.csv",
            len(rows0["support.tickets"]),
            "ticket_id",
            "duplicate_key",
        )
    )
    write_extract(landing, DAYS[0], rows0)
    write_extract(landing, DAYS[1], clean_rows(DAYS[1], 1))
    return truth


def _key(qn: str) -> str:
    return next(t.key[0] for t in TABLES if t.qualified_name == qn)
