"""Create a tiny hand-made company in a DuckDB file, shaped like the loader's `raw` schema.

    python dbt_project/scripts/make_dev_db.py /tmp/subops_dev.duckdb
    cd dbt_project && SUBOPS_DBT_DUCKDB_PATH=/tmp/subops_dev.duckdb ../.venv/bin/dbt build \
        --vars '{as_of_date: "2025-12-31"}'

The raw tables come from the contract (`Table.raw_ddl()`); the rows cover the worked examples of
docs/metrics.md (seat change + cancel, $31 monthly, usage with included units, EUR account,
annual plan, churn and reactivation, month-end anchor, pause/resume, re-anchoring change,
one-time charges, a credit note).
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipelines.contract.tables import table  # noqa: E402
from pipelines.warehouse.schema import ensure_schema  # noqa: E402

AS_OF_DATE = "2025-12-31"
TS = "2025-01-01 00:00:00"

ROWS: dict[str, list[dict]] = {
    "crm.accounts": [
        {
            "account_id": a,
            "account_name": n,
            "segment": s,
            "region": r,
            "country": c,
            "currency": cur,
            "created_at": TS,
            "updated_at": TS,
        }
        for a, n, s, r, c, cur in [
            ("A1", "Seats Co", "mid_market", "na", "US", "USD"),
            ("A2", "Small Usage Co", "smb", "na", "US", "USD"),
            ("A3", "Euro GmbH", "smb", "emea", "DE", "EUR"),
            ("A4", "Annual Inc", "enterprise", "na", "US", "USD"),
            ("A5", "Comeback LLC", "smb", "latam", "BR", "USD"),
            ("A6", "Month End Ltd", "smb", "apac", "AU", "USD"),
            ("A7", "Never Paid SA", "smb", "emea", "FR", "USD"),
            ("A8", "Pausing Pty", "mid_market", "apac", "NZ", "USD"),
            ("A9", "No Rate Ltd", "smb", "emea", "GB", "GBP"),  # GBP has no FX rate at all
            ("A10", "Late Rate AG", "smb", "emea", "CH", "CHF"),  # first CHF rate 2025-03-15
        ]
    ],
    "billing.plans": [
        {
            "plan_id": p,
            "product_id": p.lower(),
            "product_name": n,
            "product_family": f,
            "charge_type": ct,
            "billing_period_months": bpm,
            "unit_price": price,
            "included_units": inc,
            "usage_metric": metric,
            "currency": cur,
            "active": True,
            "updated_at": TS,
        }
        for p, n, f, ct, bpm, price, inc, metric, cur in [
            ("P_SEAT", "Seats", "platform", "recurring", 1, "100", None, None, "USD"),
            ("P_31", "Starter", "platform", "recurring", 1, "31", None, None, "USD"),
            ("P_API", "API calls", "payments", "usage", None, "0.01", "1000", "api_calls", "USD"),
            ("P_EUR", "Plattform", "platform", "recurring", 1, "200", None, None, "EUR"),
            (
                "P_ANNUAL",
                "Analytics annual",
                "analytics",
                "recurring",
                12,
                "2000",
                None,
                None,
                "USD",
            ),
            ("P_500", "Pro", "platform", "recurring", 1, "500", None, None, "USD"),
            ("P_CHF", "Plattform", "platform", "recurring", 1, "90", None, None, "CHF"),
            ("P_QTR", "Quarterly", "analytics", "recurring", 3, "300", None, None, "USD"),
            ("P_IMPL", "Implementation", "services", "one_time", None, "5000", None, None, "USD"),
            (
                "P_IMPL_GBP",
                "Implementation",
                "services",
                "one_time",
                None,
                "4000",
                None,
                None,
                "GBP",
            ),
        ]
    ],
    "billing.subscription_events": [
        {
            "event_id": e,
            "subscription_id": s,
            "account_id": a,
            "event_type": t,
            "effective_date": d,
            "plan_id": p,
            "quantity": q,
            "unit_price": up,
            "currency": cur,
            "recorded_at": f"{d} 12:00:00",
        }
        for e, s, a, t, d, p, q, up, cur in [
            # worked examples 4 and 5: seats 10 -> 15 on 03-10, cancelled 04-01
            ("E01", "S1", "A1", "activate", "2025-01-15", "P_SEAT", "10", None, "USD"),
            ("E02", "S1", "A1", "change", "2025-03-10", "P_SEAT", "15", None, "USD"),
            ("E03", "S1", "A1", "cancel", "2025-04-01", None, None, None, "USD"),
            # worked example 1: $31 monthly from 01-15
            ("E04", "S2", "A2", "activate", "2025-01-15", "P_31", "1", None, "USD"),
            # worked example 6: usage
            ("E05", "S3", "A2", "activate", "2025-01-01", "P_API", "1", None, "USD"),
            # worked example 8: EUR 200 MRR
            ("E06", "S4", "A3", "activate", "2025-01-01", "P_EUR", "1", None, "EUR"),
            # worked example 2: annual 2,000
            ("E07", "S5", "A4", "activate", "2025-01-01", "P_ANNUAL", "1", None, "USD"),
            ("E08", "S5", "A4", "renew", "2025-06-01", None, None, None, "USD"),
            # worked example 9: churn in July, back in October with 500
            ("E09", "S6", "A5", "activate", "2025-03-01", "P_500", "1", "400", "USD"),
            ("E10", "S6", "A5", "cancel", "2025-07-01", None, None, None, "USD"),
            ("E11", "S7", "A5", "activate", "2025-10-05", "P_500", "1", None, "USD"),
            # worked example 7: month-end anchor
            ("E12", "S8", "A6", "activate", "2025-01-31", "P_SEAT", "1", None, "USD"),
            # pause / resume / re-anchoring change to an annual plan
            ("E13", "S9", "A8", "activate", "2025-02-01", "P_QTR", "2", "250", "USD"),
            ("E14", "S9", "A8", "pause", "2025-03-15", None, None, None, "USD"),
            ("E15", "S9", "A8", "resume", "2025-05-01", None, None, None, "USD"),
            ("E16", "S9", "A8", "change", "2025-06-10", "P_ANNUAL", "1", None, "USD"),
            # a currency whose first FX rate comes after the subscription started
            ("E17", "S10", "A10", "activate", "2025-01-01", "P_CHF", "1", None, "CHF"),
        ]
    ],
    "billing.usage": [
        {
            "usage_id": u,
            "subscription_id": "S3",
            "account_id": "A2",
            "usage_metric": "api_calls",
            "quantity": q,
            "occurred_at": t,
            "received_at": t,
        }
        for u, q, t in [
            ("U1", "1000", "2025-01-10 08:00:00"),
            ("U2", "500", "2025-01-31 23:59:59"),
            ("U3", "800", "2025-02-15 10:00:00"),
            ("U4", "2345", "2025-12-20 10:00:00"),
        ]
    ],
    "billing.one_time_charges": [
        {
            "charge_id": "C1",
            "account_id": "A7",
            "plan_id": "P_IMPL",
            "description": "setup",
            "amount": "5000",
            "currency": "USD",
            "milestone_date": "2025-03-03",
        },
        {
            "charge_id": "C2",
            "account_id": "A1",
            "plan_id": "P_IMPL",
            "description": "training",
            "amount": "1234.565",
            "currency": "USD",
            "milestone_date": "2025-02-02",
        },
        {
            "charge_id": "C3",
            "account_id": "A9",
            "plan_id": "P_IMPL_GBP",
            "description": "setup",
            "amount": "4000",
            "currency": "GBP",
            "milestone_date": "2025-05-05",
        },
    ],
    "billing.invoices": [
        {
            "invoice_id": "INV1",
            "account_id": "A1",
            "invoice_date": "2025-01-15",
            "due_date": "2025-02-14",
            "currency": "USD",
            "subtotal": "1000",
            "tax": "0",
            "total": "1000",
            "status": "paid",
            "updated_at": TS,
        },
    ],
    "billing.invoice_lines": [
        {
            "invoice_line_id": "IL1",
            "invoice_id": "INV1",
            "subscription_id": "S1",
            "plan_id": "P_SEAT",
            "period_start": "2025-01-15",
            "period_end": "2025-02-15",
            "quantity": "10",
            "amount": "1000",
        },
    ],
    "billing.credit_notes": [
        {
            "credit_note_id": "CN1",
            "invoice_id": "INV1",
            "account_id": "A1",
            "amount": "100",
            "currency": "USD",
            "reason": "goodwill",
            "issued_date": "2025-02-20",
        },
    ],
    "reference.fx_rates": [
        {"rate_date": d, "currency": "EUR", "units_per_usd": r}
        for d, r in [
            ("2025-01-01", "0.92"),
            ("2025-01-31", "0.90"),
            ("2025-02-28", "0.80"),
            ("2025-06-30", "0.85"),
        ]
    ]
    + [{"rate_date": "2025-03-15", "currency": "CHF", "units_per_usd": "0.90"}],
}


def build_dev_db(path: str | Path, rows: dict[str, list[dict]] | None = None) -> Path:
    """Create every contract raw table in a fresh DuckDB file and insert the tiny company."""
    path = Path(path)
    if path.exists():
        path.unlink()
    rows = ROWS if rows is None else rows
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)  # raw tables and the loader's (empty) quarantine and audit tables
        for qualified, records in rows.items():
            t = table(qualified)
            for i, rec in enumerate(records, start=1):
                unknown = set(rec) - set(t.column_names)
                if unknown:
                    raise KeyError(f"{qualified}: unknown columns {unknown}")
                cols = [
                    *t.column_names,
                    "_file",
                    "_extract_id",
                    "_row_number",
                    "_loaded_at",
                    "_is_deleted",
                    "_extra",
                ]
                values = [rec.get(c) for c in t.column_names] + [
                    f"{t.source}/{t.name}/{AS_OF_DATE}.csv",
                    AS_OF_DATE,
                    i,
                    f"{AS_OF_DATE} 23:00:00",
                    False,
                    None,
                ]
                placeholders = ", ".join("?" for _ in cols)
                col_sql = ", ".join(f'"{c}"' for c in cols)
                con.execute(
                    f"INSERT INTO raw.{t.raw_table} ({col_sql}) VALUES ({placeholders})", values
                )
    finally:
        con.close()
    return path


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "/tmp/subops_dev.duckdb"
    print(build_dev_db(target))
