"""A small published warehouse for the dashboard tests (conftest.py builds it): the
marts/audit/quarantine tables of docs/warehouse.md with the columns it lists, fifteen months of a
dozen accounts.

The numbers are internally consistent where the pages put them side by side (the MRR bridge
closes, the deferred roll-forward closes, retention follows R6) so charts look like the real
thing; they are not a reference implementation of the metric rules.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd

AS_OF = dt.date(2026, 11, 20)
MONTHS = [dt.date(2025 + (8 + i) // 12, (8 + i) % 12 + 1, 1) for i in range(15)]  # 2025-09..2026-11
LATEST_FULL_MONTH = dt.date(2026, 10, 1)
CENT = Decimal("0.01")

DDL: dict[str, str] = {
    "marts.dim_accounts": "account_id VARCHAR, account_name VARCHAR, segment VARCHAR, "
    "region VARCHAR, country VARCHAR, currency VARCHAR, cohort_month DATE, status VARCHAR, "
    "current_mrr_usd DECIMAL(18,2), is_deleted BOOLEAN",
    "marts.dim_plans": "plan_id VARCHAR, product_name VARCHAR, product_family VARCHAR, "
    "charge_type VARCHAR, billing_period_months INTEGER, unit_price DECIMAL(18,4), "
    "currency VARCHAR",
    "marts.fct_subscription_segments": "subscription_id VARCHAR, valid_from DATE, "
    "account_id VARCHAR, plan_id VARCHAR, valid_to DATE, status VARCHAR, quantity INTEGER, "
    "unit_price DECIMAL(18,4), currency VARCHAR, mrr DECIMAL(18,4)",
    "marts.fct_invoice_lines": "invoice_line_key VARCHAR, invoice_key VARCHAR, "
    "account_id VARCHAR, subscription_id VARCHAR, charge_id VARCHAR, plan_id VARCHAR, "
    "line_type VARCHAR, invoice_date DATE, service_start DATE, service_end DATE, "
    "quantity DECIMAL(18,4), amount DECIMAL(18,2), currency VARCHAR, amount_usd DECIMAL(18,2)",
    "marts.fct_invoices": "invoice_key VARCHAR, account_id VARCHAR, invoice_date DATE, "
    "currency VARCHAR, amount DECIMAL(18,2), amount_usd DECIMAL(18,2), line_count INTEGER",
    "marts.fct_revenue_schedule": "invoice_line_key VARCHAR, month DATE, account_id VARCHAR, "
    "product_family VARCHAR, line_type VARCHAR, recognized DECIMAL(18,2), currency VARCHAR, "
    "recognized_usd DECIMAL(18,2)",
    "marts.deferred_revenue_monthly": "month DATE, opening_usd DECIMAL(18,2), "
    "billings_usd DECIMAL(18,2), recognized_usd DECIMAL(18,2), closing_usd DECIMAL(18,2), "
    "unbilled_usd DECIMAL(18,2)",
    "marts.fct_mrr_monthly": "account_id VARCHAR, month DATE, currency VARCHAR, "
    "mrr DECIMAL(18,2), mrr_usd DECIMAL(18,2), arr_usd DECIMAL(18,2)",
    "marts.fct_mrr_movements": "account_id VARCHAR, month DATE, movement_type VARCHAR, "
    "amount DECIMAL(18,2), currency VARCHAR, amount_usd DECIMAL(18,2)",
    "marts.mrr_bridge_monthly": "month DATE, opening_mrr_usd DECIMAL(18,2), "
    "new_usd DECIMAL(18,2), reactivation_usd DECIMAL(18,2), expansion_usd DECIMAL(18,2), "
    "contraction_usd DECIMAL(18,2), churn_usd DECIMAL(18,2), fx_usd DECIMAL(18,2), "
    "closing_mrr_usd DECIMAL(18,2)",
    "marts.retention_monthly": "month DATE, active_accounts INTEGER, churned_accounts INTEGER, "
    "logo_churn_rate DOUBLE, gross_mrr_churn_rate DOUBLE, net_mrr_churn_rate DOUBLE, "
    "nrr_t12 DOUBLE, grr_t12 DOUBLE",
    "marts.cohort_retention": "cohort_month DATE, months_since_start INTEGER, "
    "active_accounts INTEGER, mrr_usd DECIMAL(18,2), logo_retention DOUBLE, "
    "mrr_retention DOUBLE",
    # audit/quarantine as the loader writes them (pipelines/ingest/schema.py at the time)
    "audit.runs": "run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR, "
    "warehouse_version BIGINT, as_of_date DATE, checks_passed BIGINT, checks_failed BIGINT, "
    "files_loaded BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, full_refresh BOOLEAN, "
    "build_file VARCHAR, failure_reason VARCHAR",
    "audit.load_log": 'run_id VARCHAR, source VARCHAR, "table" VARCHAR, file VARCHAR, '
    "sha256 VARCHAR, extract_id VARCHAR, rows_read BIGINT, rows_loaded BIGINT, "
    "rows_quarantined BIGINT, loaded_at TIMESTAMP, status VARCHAR",
    "audit.check_results": "run_id VARCHAR, check_name VARCHAR, asset VARCHAR, passed BOOLEAN, "
    "blocking BOOLEAN, description VARCHAR, checked_at TIMESTAMP",
    "audit.reference_breaches": 'source VARCHAR, "table" VARCHAR, "key" VARCHAR, '
    '"column" VARCHAR, value VARCHAR, reason_code VARCHAR, reason VARCHAR, file VARCHAR, '
    "row_number BIGINT, run_id VARCHAR, checked_at TIMESTAMP",
    "quarantine.rows": 'source VARCHAR, "table" VARCHAR, file VARCHAR, row_number BIGINT, '
    '"column" VARCHAR, reason_code VARCHAR, reason VARCHAR, raw_record VARCHAR, '
    "run_id VARCHAR, extract_id VARCHAR, quarantined_at TIMESTAMP",
    "quarantine.files": 'source VARCHAR, "table" VARCHAR, file VARCHAR, sha256 VARCHAR, '
    "extract_id VARCHAR, reason_code VARCHAR, reason VARCHAR, rows_read BIGINT, "
    "run_id VARCHAR, quarantined_at TIMESTAMP",
}
LATER_DDL: dict[str, str] = {
    "marts.ar_aging": "invoice_id VARCHAR, account_id VARCHAR, due_date DATE, "
    "open_amount DECIMAL(18,2), currency VARCHAR, open_usd DECIMAL(18,2), "
    "days_past_due INTEGER, bucket VARCHAR",
    "marts.collections_monthly": "month DATE, billings_usd DECIMAL(18,2), "
    "collected_usd DECIMAL(18,2), ar_usd DECIMAL(18,2), dso_days DOUBLE, "
    "failed_payment_rate DOUBLE",
    "marts.account_margin_monthly": "account_id VARCHAR, month DATE, revenue_usd DECIMAL(18,2), "
    "cogs_vendor_usd DECIMAL(18,2), cogs_support_usd DECIMAL(18,2), "
    "cogs_implementation_usd DECIMAL(18,2), gross_margin_usd DECIMAL(18,2), "
    "gross_margin_pct DOUBLE",
    "marts.excluded_facts": "fact_table VARCHAR, reason VARCHAR, excluded_rows BIGINT, "
    "unknown_accounts BIGINT, amount_usd DECIMAL(18,2), missing_fx_rows BIGINT, "
    "first_date DATE, last_date DATE, amount_basis VARCHAR, left_out_of VARCHAR",
    "marts.billing_exceptions": "exception_key VARCHAR, exception_type VARCHAR, "
    "account_id VARCHAR, subscription_id VARCHAR, charge_id VARCHAR, period_start DATE, "
    "expected_amount DECIMAL(18,2), issued_amount DECIMAL(18,2), difference DECIMAL(18,2), "
    "currency VARCHAR",
}

SEGMENTS = {"enterprise": (6000, 14000), "mid_market": (1500, 4500), "smb": (250, 900)}
REGIONS = {"NA": ("US", "USD"), "EMEA": ("DE", "EUR"), "APAC": ("AU", "USD")}
NAMES = [
    "Acme Analytics",
    "Borealis Health",
    "Cobalt Freight",
    "Dunmore Legal",
    "Evergreen Foods",
    "Fjord Energy",
    "Granite Bank",
    "Helix Robotics",
    "Ivory Studios",
    "Juniper Retail",
    "Kestrel Air",
    "Lumen Schools",
    "Monarch Media",
    "Nimbus Cloudworks",
]


def _money(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(CENT, ROUND_HALF_UP)


def _rate(currency: str, month: dt.date) -> Decimal:
    """USD per unit; EUR drifts a little so the bridge has an FX step."""
    if currency == "USD":
        return Decimal(1)
    return Decimal("1.08") + Decimal(MONTHS.index(month) % 5) * Decimal("0.006")


def _month_end(m: dt.date) -> dt.date:
    nxt = dt.date(m.year + m.month // 12, m.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _company() -> dict[str, list[tuple]]:
    rng = random.Random(7)
    tables: dict[str, list[tuple]] = defaultdict(list)
    local: dict[str, list[Decimal]] = {}
    meta: dict[str, tuple[str, str, str, str]] = {}
    segs = list(SEGMENTS)
    regions = list(REGIONS)
    for i, name in enumerate(NAMES):
        acc = f"A{i + 1:03d}"
        seg, region = segs[i % 3], regions[i % 4 % 3]
        cur = REGIONS[region][1]
        meta[acc] = (name, seg, region, cur)
        start = 0 if i < 6 else rng.randint(1, 11)
        if i == 13:  # signed, never paid
            local[acc] = [Decimal(0)] * len(MONTHS)
            continue
        lo, hi = SEGMENTS[seg]
        mrr = _money(rng.randint(lo, hi))
        series = []
        for k in range(len(MONTHS)):
            if k < start:
                series.append(Decimal(0))
                continue
            if k > start:
                roll = rng.random()
                if mrr == 0 and roll < 0.3:
                    mrr = _money(rng.randint(lo, hi))
                elif mrr > 0 and roll < 0.05:
                    mrr = Decimal(0)
                elif mrr > 0 and roll < 0.12:
                    mrr = _money(mrr * Decimal("0.8"))
                elif mrr > 0 and roll < 0.3:
                    mrr = _money(mrr * Decimal(str(1 + rng.randint(8, 30) / 100)))
            series.append(mrr)
        local[acc] = series

    usd = {
        a: [_money(v * _rate(meta[a][3], m)) for v, m in zip(s, MONTHS, strict=True)]
        for a, s in local.items()
    }

    # dim_plans and accounts
    tables["marts.dim_plans"] = [
        ("P-CORE-USD", "Core Platform", "Platform", "recurring", 1, Decimal(100), "USD"),
        ("P-CORE-EUR", "Core Platform", "Platform", "recurring", 1, Decimal(92), "EUR"),
        ("P-ANL-USD", "Insights", "Analytics", "recurring", 12, Decimal(600), "USD"),
        ("P-API-USD", "API calls", "Usage", "usage", 1, Decimal("0.02"), "USD"),
        ("P-IMPL-USD", "Implementation", "Services", "one_time", 0, Decimal(5000), "USD"),
    ]
    for acc, (name, seg, region, cur) in meta.items():
        s = local[acc]
        first = next((k for k, v in enumerate(s) if v > 0), None)
        status = "never_paid" if first is None else "active" if s[-1] > 0 else "churned"
        tables["marts.dim_accounts"].append(
            (
                acc,
                name,
                seg,
                region,
                REGIONS[region][0],
                cur,
                MONTHS[first] if first is not None else None,
                status,
                usd[acc][-1],
                acc == "A012",
            )
        )
        plan = "P-CORE-EUR" if cur == "EUR" else "P-CORE-USD"
        prev, since = None, None
        for k, v in enumerate([*s, None]):
            if v != prev:
                if prev:
                    tables["marts.fct_subscription_segments"].append(
                        (
                            f"S-{acc}",
                            since,
                            acc,
                            plan,
                            MONTHS[k] if k < len(MONTHS) else None,
                            "active",
                            1,
                            prev,
                            cur,
                            prev,
                        )
                    )
                prev, since = v, MONTHS[k] if k < len(MONTHS) else None

    # MRR, movements, bridge
    for k, m in enumerate(MONTHS):
        totals = defaultdict(Decimal)
        for acc, s in local.items():
            cur = meta[acc][3]
            if s[k] > 0:
                tables["marts.fct_mrr_monthly"].append(
                    (acc, m, cur, s[k], usd[acc][k], usd[acc][k] * 12)
                )
            if k == 0:
                continue
            prev, now = s[k - 1], s[k]
            had = any(v > 0 for v in s[: k - 1])
            kind = None
            if prev == 0 and now > 0:
                kind = "reactivation" if had else "new"
            elif 0 < prev < now:
                kind = "expansion"
            elif 0 < now < prev:
                kind = "contraction"
            elif prev > 0 and now == 0:
                kind = "churn"
            r_now = _rate(cur, m)
            if kind:
                amt_usd = _money((now - prev) * r_now)
                tables["marts.fct_mrr_movements"].append((acc, m, kind, now - prev, cur, amt_usd))
                totals[kind] += amt_usd
            fx = usd[acc][k] - usd[acc][k - 1] - (_money((now - prev) * r_now) if kind else 0)
            if fx:
                tables["marts.fct_mrr_movements"].append((acc, m, "fx", Decimal(0), cur, fx))
                totals["fx"] += fx
        opening = sum((usd[a][k - 1] for a in local), Decimal(0)) if k else Decimal(0)
        closing = sum((usd[a][k] for a in local), Decimal(0))
        if k == 0:
            totals["new"] = closing
        tables["marts.mrr_bridge_monthly"].append(
            (
                m,
                opening,
                totals["new"],
                totals["reactivation"],
                totals["expansion"],
                totals["contraction"],
                totals["churn"],
                totals["fx"],
                closing,
            )
        )

        # retention (R6), both ends at M's rate
        if k:
            base = [a for a in local if local[a][k - 1] > 0]
            churned = [a for a in base if local[a][k] == 0]
            prev_mrr = sum((usd[a][k - 1] for a in base), Decimal(0))
            lost = -(totals["churn"] + totals["contraction"])
            gross = float(lost / prev_mrr) if prev_mrr else None
            net = float((lost - totals["expansion"]) / prev_mrr) if prev_mrr else None
            nrr = grr = None
            if k >= 12:
                b12 = [a for a in local if local[a][k - 12] > 0]
                rate = {a: _rate(meta[a][3], m) for a in b12}
                then = sum(local[a][k - 12] * rate[a] for a in b12)
                nrr = float(sum(local[a][k] * rate[a] for a in b12) / then)
                grr = float(sum(min(local[a][k], local[a][k - 12]) * rate[a] for a in b12) / then)
            tables["marts.retention_monthly"].append(
                (
                    m,
                    sum(1 for a in local if local[a][k] > 0),
                    len(churned),
                    len(churned) / len(base) if base else None,
                    gross,
                    net,
                    nrr,
                    grr,
                )
            )

    # cohorts
    cohorts: dict[int, list[str]] = defaultdict(list)
    for acc, s in local.items():
        first = next((k for k, v in enumerate(s) if v > 0), None)
        if first is not None:
            cohorts[first].append(acc)
    for c, accs in sorted(cohorts.items()):
        start_mrr = sum((usd[a][c] for a in accs), Decimal(0))
        for n in range(len(MONTHS) - c):
            active = [a for a in accs if local[a][c + n] > 0]
            mrr = sum((usd[a][c + n] for a in active), Decimal(0))
            tables["marts.cohort_retention"].append(
                (MONTHS[c], n, len(active), mrr, len(active) / len(accs), float(mrr / start_mrr))
            )

    # invoices, revenue schedule, deferred revenue: enterprise billed quarterly in advance
    billed = defaultdict(Decimal)
    recog = defaultdict(Decimal)
    for acc, s in local.items():
        cur, seg = meta[acc][3], meta[acc][1]
        plan = "P-CORE-EUR" if cur == "EUR" else "P-CORE-USD"
        for k, m in enumerate(MONTHS):
            if m > AS_OF or s[k] == 0:
                continue
            rate = _rate(cur, m)
            lines = []
            if seg != "enterprise" or k % 3 == 0:
                months = 1 if seg != "enterprise" else min(3, len(MONTHS) - k)
                lines.append(("recurring", plan, s[k] * months, m, months))
            if seg == "mid_market" and k:
                lines.append(("usage", "P-API-USD", _money(rng.randint(40, 400)), m, 1))
            if k == next(j for j, v in enumerate(s) if v > 0) and seg == "enterprise":
                lines.append(("one_time", "P-IMPL-USD", Decimal(5000), m, 1))
            if not lines:
                continue
            inv = f"INV-{acc}-{m:%Y%m}"
            total = Decimal(0)
            for j, (lt, pl, amt, start, months) in enumerate(lines):
                key = f"{inv}-{j + 1}"
                amt_usd = _money(amt * rate)
                total += amt
                billed[m] += amt_usd
                end = _month_end(MONTHS[min(k + months - 1, len(MONTHS) - 1)])
                tables["marts.fct_invoice_lines"].append(
                    (
                        key,
                        inv,
                        acc,
                        f"S-{acc}",
                        None,
                        pl,
                        lt,
                        m,
                        start,
                        end,
                        Decimal(1),
                        amt,
                        cur,
                        amt_usd,
                    )
                )
                family = {"P-API-USD": "Usage", "P-IMPL-USD": "Services"}.get(pl, "Platform")
                for n in range(months):
                    mm = MONTHS[k + n]
                    share = _money(amt / months)
                    tables["marts.fct_revenue_schedule"].append(
                        (key, mm, acc, family, lt, share, cur, _money(share * rate))
                    )
                    recog[mm] += _money(share * rate)
            tables["marts.fct_invoices"].append(
                (inv, acc, m, cur, total, _money(total * rate), len(lines))
            )
    credit = (
        f"CN-A002-{MONTHS[9]:%Y%m}",
        MONTHS[9],
        "A002",
        None,
        "credit_note",
        Decimal("-450.00"),
        "USD",
        Decimal("-450.00"),
    )
    tables["marts.fct_revenue_schedule"].append(credit)
    for future in (dt.date(2026, 12, 1), dt.date(2027, 1, 1)):  # scheduled, not yet recognized
        tables["marts.fct_revenue_schedule"].append(
            (
                "INV-A001-202611-9",
                future,
                "A001",
                "Analytics",
                "recurring",
                Decimal(600),
                "USD",
                Decimal(600),
            )
        )
    recog[MONTHS[9]] += credit[-1]
    opening = Decimal(0)
    for m in MONTHS:
        closing = opening + billed[m] - recog[m]
        unbilled = _money(120) if m == MONTHS[-1] else Decimal(0)
        tables["marts.deferred_revenue_monthly"].append(
            (m, opening, billed[m], recog[m], closing, unbilled)
        )
        opening = closing

    # audit and quarantine
    def run(n: int, day: int, minutes: int, status: str, version: int | None, checks: tuple):
        started = dt.datetime(2026, 11, day, 2, 0)
        return (
            f"run-000{n}",
            started,
            started + dt.timedelta(minutes=minutes),
            status,
            version,
            dt.date(2026, 11, day),
            *checks,
            8,
            2600,
            21,
            n == 1,
            f"2026111{n}-run.duckdb",
            None if status == "published" else "blocking check failed: contract",
        )

    runs = [
        run(1, 18, 9, "published", 1, (212, 0)),
        run(2, 20, 11, "published", 2, (214, 0)),
        run(3, 21, 4, "failed", None, (190, 3)),
    ]
    tables["audit.runs"] = runs
    src_tables = [
        ("billing", "accounts"),
        ("billing", "subscription_events"),
        ("billing", "invoices"),
        ("billing", "invoice_lines"),
        ("billing", "payments"),
        ("crm", "opportunities"),
        ("support", "tickets"),
        ("finance", "fx_rates"),
    ]
    reasons = ["bad_type", "bad_enum", "missing_required", "duplicate_key", "negative_amount"]
    for run_id, started, *_ in runs[:2]:
        for j, (src, tbl) in enumerate(src_tables):
            extract = f"{tbl}_{started:%Y%m%d}"
            file = f"{src}/{tbl}/{extract}.csv"
            read = 200 + 37 * j
            bad = (j * 3) % 7 if run_id == "run-0002" else j % 2
            loaded_at = started + dt.timedelta(minutes=1, seconds=j)
            tables["audit.load_log"].append(
                (
                    run_id,
                    src,
                    tbl,
                    file,
                    f"{j:02d}" * 32,
                    extract,
                    read,
                    read - bad,
                    bad,
                    loaded_at,
                    "loaded",
                )
            )
            for check in ("contract", "references", "reconciliation"):
                tables["audit.check_results"].append(
                    (
                        run_id,
                        f"{check}_{tbl}",
                        f"raw.{src}__{tbl}",
                        True,
                        check != "references",
                        f"{check} check of {tbl}",
                        loaded_at,
                    )
                )
            if run_id == "run-0002":
                for r in range(bad):
                    code = reasons[(j + r) % len(reasons)]
                    tables["quarantine.rows"].append(
                        (
                            src,
                            tbl,
                            file,
                            10 + r * 7,
                            "amount",
                            code,
                            f"{code}: value rejected",
                            f'{{"id": "{tbl[:3]}-{r}", "amount": "-12,5", "date": "2026/11/3{r}"}}',
                            run_id,
                            extract,
                            loaded_at,
                        )
                    )
    tables["quarantine.files"].append(
        (
            "crm",
            "opportunities",
            "crm/opportunities/opportunities_broken.csv",
            "ab" * 32,
            "opportunities_broken",
            "missing_column",
            "the file lacks column amount",
            40,
            "run-0002",
            dt.datetime(2026, 11, 20, 2, 1, 30),
        )
    )
    checked = dt.datetime(2026, 11, 20, 2, 2)
    tables["audit.reference_breaches"] = [
        (
            "support",
            "tickets",
            "T-9",
            "account_id",
            "GHOST",
            "unknown_reference",
            "support/tickets/tickets_20261120.csv row 4: account_id 'GHOST' names no row of "
            "crm.accounts in any extract so far; send the missing row or fix the id.",
            "support/tickets/tickets_20261120.csv",
            4,
            "run-0002",
            checked,
        ),
        (
            "billing",
            "payments",
            "PAY-7",
            "amount",
            "1000000.0000",
            "overpayment",
            "billing/payments/payments_20261120.csv row 9: succeeded payment PAY-7 of "
            "1000000.00 USD takes invoice INV-A001-202609 to a net paid of 1004761.00, above "
            "its total of 4761.00 USD; over-paid by 1000000.00 in all.",
            "billing/payments/payments_20261120.csv",
            9,
            "run-0002",
            checked,
        ),
        (
            "billing",
            "invoices",
            "INV-A004-202611",
            "currency",
            "EUR",
            "stale_fx_rate",
            "billing/invoices/invoices_20261120.csv row 3: the latest EUR rate on or before "
            "2026-11-01 (invoice_date) is of 2026-10-01, 31 days old (allowed: 7).",
            "billing/invoices/invoices_20261120.csv",
            3,
            "run-0002",
            checked,
        ),
    ]
    tables["audit.check_results"].append(
        (
            "run-0003",
            "contract_invoices",
            "raw.billing__invoices",
            False,
            True,
            "contract check of invoices",
            dt.datetime(2026, 11, 21, 2, 3),
        )
    )
    return tables


def _later(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Rows for the marts of later issues (used to test the pages once those exist)."""
    out: dict[str, list[tuple]] = defaultdict(list)
    buckets = ["current", "1-30", "31-60", "61-90", "over_90"]
    for i, inv in enumerate(tables["marts.fct_invoices"][-10:]):
        out["marts.ar_aging"].append(
            (
                inv[0],
                inv[1],
                inv[2] + dt.timedelta(days=30),
                inv[4],
                inv[3],
                inv[5],
                i * 9,
                buckets[i % 5],
            )
        )
    for m, _o, billed, _r, _c, _u in tables["marts.deferred_revenue_monthly"]:
        out["marts.collections_monthly"].append(
            (
                m,
                billed,
                _money(billed * Decimal("0.93")),
                _money(billed * Decimal("0.4")),
                38.5,
                0.03,
            )
        )
    for acc, m, _cur, _mrr, mrr_usd, _arr in tables["marts.fct_mrr_monthly"]:
        cogs = _money(mrr_usd * Decimal("0.22"))
        out["marts.account_margin_monthly"].append(
            (
                acc,
                m,
                mrr_usd,
                cogs,
                Decimal(0),
                Decimal(0),
                mrr_usd - cogs,
                float((mrr_usd - cogs) / mrr_usd),
            )
        )
    out["marts.excluded_facts"] = [
        (
            "support.tickets",
            "unknown_account",
            1,
            1,
            Decimal("18.75"),
            0,
            AS_OF,
            AS_OF,
            "support cost (R7 rate)",
            "support cost, margin, support metrics",
        ),
        (
            "billing.one_time_charges",
            "unknown_account",
            0,
            0,
            Decimal(0),
            0,
            None,
            None,
            "charge amount",
            "revenue, billing reconciliation, margin",
        ),
    ]
    out["marts.billing_exceptions"] = [
        (
            "BX-1",
            "missing_in_billing",
            "A003",
            "S-A003",
            None,
            MONTHS[10],
            Decimal(1200),
            Decimal(0),
            Decimal(1200),
            "USD",
        ),
        (
            "BX-2",
            "amount_mismatch",
            "A005",
            "S-A005",
            None,
            MONTHS[11],
            Decimal(800),
            Decimal("780.50"),
            Decimal("19.50"),
            "USD",
        ),
    ]
    return out


def _kpi_monthly_sql(later_marts: bool) -> str:
    """marts.kpi_monthly over the fixture's marts (the real one is a dbt model; here the fixture
    only needs the columns tied the same way: MRR = bridge closing, AR = collections, …)."""
    later = (
        """, margin AS (SELECT month, sum(revenue_usd) AS rev, sum(gross_margin_usd) AS gm
                 FROM marts.account_margin_monthly GROUP BY month),
           coll AS (SELECT month, ar_usd, dso_days FROM marts.collections_monthly),
           leak AS (SELECT date_trunc('month', period_start)::DATE AS month,
                           sum(greatest(-difference, 0)) AS leak
                    FROM marts.billing_exceptions GROUP BY 1)"""
        if later_marts
        else ""
    )
    gm, ar, dso, leak = (
        (
            "CAST(margin.gm / nullif(margin.rev, 0) AS DECIMAL(18,6))",
            "coll.ar_usd",
            "CAST(coll.dso_days AS DECIMAL(18,2))",
            "coalesce(leak.leak, 0)",
        )
        if later_marts
        else ("NULL", "NULL", "NULL", "0")
    )
    joins = (
        "LEFT JOIN margin USING (month) LEFT JOIN coll USING (month) LEFT JOIN leak USING (month)"
        if later_marts
        else ""
    )
    return f"""
        CREATE TABLE marts.kpi_monthly AS
        WITH rev AS (SELECT month, sum(recognized_usd) AS revenue_usd
                     FROM marts.fct_revenue_schedule GROUP BY month) {later}
        SELECT b.month, b.closing_mrr_usd AS mrr_usd, b.closing_mrr_usd * 12 AS arr_usd,
            b.new_usd + b.reactivation_usd + b.expansion_usd + b.contraction_usd + b.churn_usd
                AS net_new_mrr_usd,
            CAST(r.nrr_t12 AS DECIMAL(18,6)) AS nrr_t12,
            CAST(r.grr_t12 AS DECIMAL(18,6)) AS grr_t12,
            CAST(r.logo_churn_rate AS DECIMAL(18,6)) AS logo_churn_rate,
            rev.revenue_usd,
            d.closing_usd AS deferred_revenue_usd,
            CAST(b.closing_mrr_usd * 2 AS DECIMAL(18,2)) AS bookings_usd,
            {gm} AS gross_margin_pct,
            b.month < DATE '2026-10-01' AS cogs_is_complete,
            {ar} AS ar_usd,
            {dso} AS dso_days,
            {leak} AS billing_leakage_usd
        FROM marts.mrr_bridge_monthly AS b
        LEFT JOIN marts.retention_monthly AS r USING (month)
        LEFT JOIN rev USING (month)
        LEFT JOIN marts.deferred_revenue_monthly AS d USING (month)
        {joins}
    """


def build_warehouse(path: Path, *, later_marts: bool = False) -> Path:
    """Write the fixture warehouse to `path` (a DuckDB file) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = _company()
    ddl = dict(DDL)
    if later_marts:
        tables.update(_later(tables))
        ddl.update(LATER_DDL)
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "audit", "quarantine"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for name, cols in ddl.items():
            con.execute(f"CREATE TABLE {name} ({cols})")
            rows = tables.get(name, [])
            if rows:
                names = [c.split()[0].strip('"') for c in cols.split(", ")]
                frame = pd.DataFrame(rows, columns=names, dtype=object).astype(str)
                frame = frame.where(pd.DataFrame(rows, columns=names).notna(), None)
                con.register("frame", frame)
                con.execute(f"INSERT INTO {name} SELECT * FROM frame")
                con.unregister("frame")
        con.execute(_kpi_monthly_sql(later_marts))
    return path
