"""Implausible values (issue 9, class 5): a payment far above its invoice, a month without FX
rates converted silently at an old rate, a one-time charge of an unknown account counted in
revenue. Over-payments and stale rates are reported breaches (rows kept, loaded); facts of
unknown accounts stay out of every total with a visible count (marts.excluded_facts).

Loader-level rules run on hand-made companies in an in-memory warehouse (fast); one small
hand-made company is built end to end to show all three through dbt, the marts and the
dashboard's queries."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from landing_fixture import DAYS, clean_rows, write_extract

from dashboards.lib import queries
from pipelines.contract import TABLES
from pipelines.ingest.landing import table_files
from pipelines.ingest.load import load_table
from pipelines.ingest.references import (
    MAX_BREACH_RATE,
    blocking_breaches,
    check_references,
)
from pipelines.run.build import BuildResult, run_build
from pipelines.settings import get_settings
from pipelines.warehouse.readonly import connect_readonly

TS = "2026-01-01T08:00:00Z"


def load(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    for t in TABLES:
        load_table(con, t, table_files(landing, t), "r1")


def breaches(con: duckdb.DuckDBPyConnection, code: str) -> dict[str, str]:
    """key -> reason text of one reason code."""
    return dict(
        con.execute(
            "SELECT key, reason FROM audit.reference_breaches WHERE reason_code = $c", {"c": code}
        ).fetchall()
    )


def invoice(iid: str, total: str, status: str = "open", account: str = "A1") -> dict[str, str]:
    return {
        "invoice_id": iid,
        "account_id": account,
        "invoice_date": DAYS[0],
        "due_date": DAYS[0],
        "currency": "USD",
        "subtotal": total,
        "tax": "0",
        "total": total,
        "status": status,
        "updated_at": TS,
    }


def payment(pid: str, iid: str, amount: str, status: str = "succeeded", hour: int = 9) -> dict:
    return {
        "payment_id": pid,
        "invoice_id": iid,
        "account_id": "A1",
        "amount": amount,
        "currency": "USD",
        "status": status,
        "attempted_at": f"{DAYS[0]}T{hour:02d}:00:00Z",
    }


def charge(cid: str, amount: str, day: str, account: str = "A1", currency: str = "USD") -> dict:
    return {
        "charge_id": cid,
        "account_id": account,
        "plan_id": "P3",
        "description": "milestone",
        "amount": amount,
        "currency": currency,
        "milestone_date": day,
    }


# --- over-payments -----------------------------------------------------------------------------


def test_overpayment_is_reported_on_the_payment_and_the_row_stays(con, tmp_path):
    """1,000,000 against a 4,761 invoice: reported on that payment (file, row, paid vs total,
    the fix), loaded all the same. A duplicate payment refunded later, a service credit after
    full payment (I0: paid 1000 of 1000, credited 10) and failed attempts are no over-payment;
    anything paid on a void invoice is."""
    rows = clean_rows(DAYS[0])
    rows["billing.invoices"] += [
        invoice("I-BIG", "4761"),
        invoice("I-DUP", "100"),
        invoice("I-VOID", "50", status="void"),
        invoice("I-CREDIT", "-80", status="paid"),
    ]
    rows["billing.payments"] += [
        payment("P-BIG-1", "I-BIG", "4761", hour=9),
        payment("P-BIG-2", "I-BIG", "1000000", hour=10),
        payment("P-BIG-F", "I-BIG", "5000", status="failed", hour=11),
        payment("P-DUP-1", "I-DUP", "100", hour=9),
        payment("P-DUP-2", "I-DUP", "100", hour=10),
        payment("P-DUP-R", "I-DUP", "100", status="refunded", hour=12),
        payment("P-VOID", "I-VOID", "50"),
    ]
    landing = tmp_path / "landing"
    write_extract(landing, DAYS[0], rows)
    load(con, landing)
    summary = check_references(con, "r1")

    got = breaches(con, "overpayment")
    assert set(got) == {"P-BIG-2", "P-VOID"}
    big = got["P-BIG-2"]
    assert big.startswith("billing/payments/2026-01-01.csv row 3: ")
    for part in ("1000000.00 USD", "I-BIG", "1004761.00", "4761.00", "over-paid by 1000000.00"):
        assert part in big, (part, big)
    assert "Refund or re-apply the excess" in big
    assert "void" in got["P-VOID"]
    (row,) = con.execute(
        'SELECT "table", "column", value, file, row_number FROM audit.reference_breaches '
        "WHERE key = 'P-BIG-2'"
    ).fetchall()
    assert row == ("payments", "amount", "1000000.0000", "billing/payments/2026-01-01.csv", 3)
    assert con.execute("SELECT count(*) FROM raw.billing__payments").fetchall() == [(8,)]
    # the share is of the succeeded payments against a loaded invoice (failed ones cannot breach)
    (s,) = [s for s in summary if s.reason_code == "overpayment"]
    assert (s.table, s.column, s.breaches, s.rows) == ("billing.payments", "amount", 2, 6)


def test_overpayments_block_only_when_systematic(con, tmp_path):
    """One over-payment among 12 succeeded payments is reported and published; more than 10 %
    of them over-paid (e.g. amounts in cents) is systematic and blocks."""
    rows = clean_rows(DAYS[0])  # I0 paid by PAY0
    for k in range(10):
        rows["billing.invoices"].append(invoice(f"I{k + 10}", "100"))
        rows["billing.payments"].append(payment(f"P{k + 10}", f"I{k + 10}", "100"))
    rows["billing.payments"].append(payment("P-OVER", "I10", "100000", hour=11))
    landing = tmp_path / "landing"
    write_extract(landing, DAYS[0], rows)
    load(con, landing)
    (s,) = [s for s in check_references(con, "r1") if s.reason_code == "overpayment"]
    assert (s.breaches, s.rows) == (1, 12) and s.rate <= MAX_BREACH_RATE
    assert not blocking_breaches([s])

    con.execute("UPDATE raw.billing__payments SET amount = amount * 100 WHERE payment_id < 'P13'")
    (s,) = [s for s in check_references(con, "r1") if s.reason_code == "overpayment"]
    assert s.rate > MAX_BREACH_RATE and blocking_breaches([s]) == [s]


# --- stale FX rates ----------------------------------------------------------------------------


@pytest.fixture
def stale_fx(con, tmp_path):
    """EUR rates on 2025-11-01, then nothing until the daily rates from 2026-01-01: December's
    rows would be converted at November's rate."""
    rows = clean_rows(DAYS[0])
    rows["reference.fx_rates"].append(
        {"rate_date": "2025-11-01", "currency": "EUR", "units_per_usd": "0.95"}
    )
    rows["billing.one_time_charges"] += [
        charge("CH-FRESH", "100", "2025-11-08", "A2", "EUR"),  # 7 days: allowed
        charge("CH-STALE", "920", "2025-12-15", "A2", "EUR"),  # 44 days
        charge("CH-EARLY", "50", "2025-10-15", "A2", "EUR"),  # before any rate
        charge("CH-LATER", "10", "2026-03-01", "A2", "EUR"),  # after the as-of date
    ]
    landing = tmp_path / "landing"
    write_extract(landing, DAYS[0], rows)
    load(con, landing)
    return con


def test_stale_fx_rate_is_reported_beyond_the_allowed_age(stale_fx):
    con = stale_fx
    check_references(con, "r1", as_of=dt.date(2026, 1, 2))
    stale = breaches(con, "stale_fx_rate")
    assert set(stale) == {"CH-STALE"}
    assert stale["CH-STALE"] == (
        "billing/one_time_charges/2026-01-01.csv row 3: the latest EUR rate on or before "
        "2025-12-15 (milestone_date) is of 2025-11-01, 44 days old (allowed: 7); add the missing "
        "rates to reference.fx_rates, or raise fx_max_rate_age_days if rates are published "
        "less often."
    )
    # a row dated before the first rate is no_fx_rate (as before), not stale as well
    assert set(breaches(con, "no_fx_rate")) == {"CH-EARLY"}


def test_stale_fx_age_is_configurable_and_judged_at_the_as_of_date(stale_fx):
    con = stale_fx
    check_references(con, "r1", fx_max_rate_age_days=44, as_of=dt.date(2026, 1, 2))
    assert breaches(con, "stale_fx_rate") == {}  # 44 days is allowed at 44
    check_references(con, "r1", fx_max_rate_age_days=6, as_of=dt.date(2026, 1, 2))
    assert set(breaches(con, "stale_fx_rate")) == {"CH-FRESH", "CH-STALE"}
    # without an as-of date a row of a later day is judged on its own day: 2026-01-01's rate
    # is 59 days older than 2026-03-01
    check_references(con, "r1")
    assert set(breaches(con, "stale_fx_rate")) == {"CH-STALE", "CH-LATER"}


# --- end to end: the three implausible values through a build ----------------------------------

GHOST_CHARGE = Decimal("4761")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildResult, Path, list[dict]]:
    """A hand-made company with an over-payment of 1,000,000 against a 4,761 invoice, a
    December EUR charge with no December rate (the last one is November's), and a 4,761
    one-time charge of an unknown account, among enough clean rows that none is systematic.
    Built with fx_max_rate_age_days = 7 (the default) as of 2026-01-02."""
    root = tmp_path_factory.mktemp("implausible")
    landing = root / "landing"
    rows = clean_rows(DAYS[0], 0)
    rows["reference.fx_rates"].append(
        {"rate_date": "2025-11-01", "currency": "EUR", "units_per_usd": "0.95"}
    )
    rows["billing.one_time_charges"] += [charge(f"CH-K{k}", "100", DAYS[0]) for k in range(10)]
    rows["billing.one_time_charges"] += [
        charge("CH-GHOST", str(GHOST_CHARGE), DAYS[0], account="GHOST"),
        charge("CH-DEC", "920", "2025-12-15", "A2", "EUR"),
    ]
    rows["billing.invoices"] += [invoice("I-BIG", "4761")] + [
        invoice(f"I-K{k}", "100") for k in range(10)
    ]
    rows["billing.payments"] += [payment(f"P-K{k}", f"I-K{k}", "100") for k in range(10)] + [
        payment("P-BIG-1", "I-BIG", "4761", hour=9),
        payment("P-BIG-2", "I-BIG", "1000000"),
    ]
    write_extract(landing, DAYS[0], rows)
    day1 = clean_rows(DAYS[1], 1)
    write_extract(landing, DAYS[1], day1)
    charges = rows["billing.one_time_charges"] + day1["billing.one_time_charges"]
    s = get_settings(landing_dir=landing, warehouse_dir=root / "wh", fx_max_rate_age_days=7)
    return run_build(s), s.current_warehouse, charges


def q(path: Path, sql: str) -> list[tuple]:
    with contextlib.closing(connect_readonly(path)) as con:
        return con.execute(sql).fetchall()


def test_build_publishes_and_reports_each_implausible_value(built):
    r, cur, _ = built
    assert r.published, r.failure_reason
    got = set(q(cur, 'SELECT "table", key, "column", reason_code FROM audit.reference_breaches'))
    assert got == {
        ("payments", "P-BIG-2", "amount", "overpayment"),
        ("one_time_charges", "CH-DEC", "currency", "stale_fx_rate"),
        ("one_time_charges", "CH-GHOST", "account_id", "unknown_reference"),
    }
    assert r.reference_breaches == 3
    # reported, not dropped: the rows are loaded
    assert q(cur, "SELECT count(*) FROM raw.billing__payments WHERE payment_id = 'P-BIG-2'") == [
        (1,)
    ]


def test_unknown_account_charge_stays_out_of_revenue_with_a_visible_count(built):
    r, cur, charges = built
    assert r.published, r.failure_reason
    # one-time revenue = the charges of known accounts, dated on or before the as-of date
    known = sum(
        (
            Decimal(c["amount"])
            for c in charges
            if c["account_id"] != "GHOST" and c["currency"] == "USD"
        ),
        Decimal(0),
    )
    (usd,) = q(
        cur,
        "SELECT sum(recognized) FROM marts.fct_revenue_schedule "
        "WHERE line_type = 'one_time' AND currency = 'USD'",
    )[0]
    assert usd == known
    assert q(cur, "SELECT count(*) FROM marts.fct_invoice_lines WHERE account_id = 'GHOST'") == [
        (0,)
    ]
    assert q(
        cur,
        "SELECT excluded_rows, unknown_accounts, amount_usd FROM marts.excluded_facts "
        "WHERE fact_table = 'billing.one_time_charges' AND reason = 'unknown_account'",
    ) == [(1, 1, GHOST_CHARGE)]
    assert q(cur, "SELECT sum(excluded_rows) FROM marts.excluded_facts") == [(1,)]
    # what the Data quality page shows
    excluded = queries.excluded_facts(cur)
    assert int(excluded["excluded_rows"].sum()) == 1
    summary = queries.reference_breach_summary(cur)
    assert set(summary["reason_code"]) == {"overpayment", "stale_fx_rate", "unknown_reference"}
    sample = queries.reference_breach_sample(cur, "overpayment")
    assert list(sample["key"]) == ["P-BIG-2"]


def test_stale_rate_converts_but_is_visible(built):
    """The marts convert December's EUR charge at November's rate (R1: the latest rate on or
    before the day); the breach says so, with the fix."""
    r, cur, _ = built
    assert r.published, r.failure_reason
    assert q(cur, "SELECT amount_usd FROM marts.fct_invoice_lines WHERE charge_id = 'CH-DEC'") == [
        (Decimal("968.42"),)
    ]  # 920 / 0.95
    (reason,) = q(
        cur, "SELECT reason FROM audit.reference_breaches WHERE reason_code = 'stale_fx_rate'"
    )[0]
    assert "is of 2025-11-01, 44 days old (allowed: 7)" in reason
