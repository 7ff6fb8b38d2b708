"""External validation: dbt Labs' MRR-playbook subscription history through the whole dbt build.

tests/fixtures/mrr_playbook/subscription_periods.csv (121 periods, 55 customers, 2017-09 to
2020-02; see the README there) is mapped onto the source contract: one USD account per customer
(`C<customer_id>`), one monthly recurring plan, and per period a subscription `S<subscription_id>`
with `activate` at start_date (quantity 1, unit_price = monthly_amount) and `cancel` at end_date.
The project is built once per module into a tmp DuckDB, as of 2020-02-29 (the last month-end of
the data: every period has ended by 2020-02-01, so February 2020 is all churn).

The expected figures are computed here, in Python with Decimal, from the CSV and the definitions
of docs/metrics.md only (never read back from the warehouse):
  R5  MRR(account, M) = Σ monthly_amount of periods with start_date ≤ last day of M < end_date;
      rows from the account's first month to the as-of month, zero months included (R5
      decision 2); movements new / reactivation / expansion / contraction / churn from
      prev = MRR(M−1) to cur = MRR(M); all USD, so fx = 0 and the bridge closes without it.
  R6  logo churn rate(M) = accounts with churn in M / accounts with MRR > 0 at the end of M−1;
      gross / net MRR churn over MRR(M−1); trailing-12 NRR / GRR over accounts with MRR > 0 at
      M−12; fractions at 6 decimals, half away from zero, NULL on a zero denominator
      (R6 decision 1).
A few of those figures are also written out literally below, as a hand-checkable anchor.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from dbt_helpers import ROOT, dbt_build, make_dev_db, q

FIXTURE = ROOT / "tests" / "fixtures" / "mrr_playbook" / "subscription_periods.csv"
AS_OF = date(2020, 2, 29)
TS = "2017-01-01 00:00:00"
MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn")

pytestmark = pytest.mark.slow


# --- the source history ------------------------------------------------------------------------


def read_periods() -> list[dict]:
    with FIXTURE.open(newline="") as f:
        return [
            {
                "subscription_id": f"S{r['subscription_id']}",
                "account_id": f"C{r['customer_id']}",
                "start_date": date.fromisoformat(r["start_date"]),
                "end_date": date.fromisoformat(r["end_date"]),
                "monthly_amount": Decimal(r["monthly_amount"]),
            }
            for r in csv.DictReader(f)
        ]


def raw_rows(periods: list[dict]) -> dict[str, list[dict]]:
    """The history in the shape of the source contract (rows for make_dev_db.build_dev_db)."""
    accounts = sorted({p["account_id"] for p in periods}, key=lambda a: int(a[1:]))
    events = []
    for p in periods:
        for kind, day in (("activate", p["start_date"]), ("cancel", p["end_date"])):
            activate = kind == "activate"
            events.append(
                {
                    "event_id": f"{p['subscription_id']}-{kind}",
                    "subscription_id": p["subscription_id"],
                    "account_id": p["account_id"],
                    "event_type": kind,
                    "effective_date": day.isoformat(),
                    "plan_id": "P_MONTHLY" if activate else None,
                    "quantity": "1" if activate else None,
                    "unit_price": str(p["monthly_amount"]) if activate else None,
                    "currency": "USD",
                    "recorded_at": f"{day.isoformat()} 12:00:00",
                }
            )
    return {
        "crm.accounts": [
            {
                "account_id": a,
                "account_name": f"Playbook customer {a[1:]}",
                "segment": "smb",
                "region": "na",
                "country": "US",
                "currency": "USD",
                "created_at": TS,
                "updated_at": TS,
            }
            for a in accounts
        ],
        "billing.plans": [
            {
                "plan_id": "P_MONTHLY",
                "product_id": "playbook",
                "product_name": "Playbook subscription",
                "product_family": "platform",
                "charge_type": "recurring",
                "billing_period_months": 1,
                # every event carries its negotiated price; a list price of 0 would show at once
                # if an event's unit_price were not applied
                "unit_price": "0",
                "included_units": None,
                "usage_metric": None,
                "currency": "USD",
                "active": True,
                "updated_at": TS,
            }
        ],
        "billing.subscription_events": events,
    }


# --- expected figures, from the definitions ----------------------------------------------------


def month_starts(first: date, last: date) -> list[date]:
    out, m = [], first.replace(day=1)
    while m <= last:
        out.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return out


def snapshot_day(month: date) -> date:
    """R5: the month's last day (R5 decision 1: the as-of date in the as-of month)."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return min(last, AS_OF)


def expected_mrr(periods: list[dict]) -> dict[str, dict[date, Decimal]]:
    """MRR per account and month, from the account's first month to the as-of month."""
    by_account: dict[str, list[dict]] = defaultdict(list)
    for p in periods:
        by_account[p["account_id"]].append(p)
    series = {}
    for account, ps in by_account.items():
        first = min(p["start_date"] for p in ps)
        series[account] = {
            m: sum(
                (
                    p["monthly_amount"]
                    for p in ps
                    if p["start_date"] <= snapshot_day(m) < p["end_date"]
                ),
                Decimal(0),
            )
            for m in month_starts(first, AS_OF)
        }
    return series


def classify(prev: Decimal, cur: Decimal, had_mrr: bool) -> str | None:
    """R5 movement of one account-month."""
    if prev == 0 and cur > 0:
        return "reactivation" if had_mrr else "new"
    if prev > 0 and cur == 0:
        return "churn"
    if 0 < prev < cur:
        return "expansion"
    if 0 < cur < prev:
        return "contraction"
    return None


def expected_movements(series) -> dict[tuple[str, date, str], Decimal]:
    moves = {}
    for account, months in series.items():
        prev, had_mrr = Decimal(0), False
        for m in sorted(months):
            cur = months[m]
            kind = classify(prev, cur, had_mrr)
            if kind:
                moves[(account, m, kind)] = cur - prev
            had_mrr = had_mrr or cur > 0
            prev = cur
    return moves


def expected_bridge(series, moves) -> dict[date, dict[str, Decimal]]:
    months = sorted({m for s in series.values() for m in s})
    total = {m: sum((s.get(m, Decimal(0)) for s in series.values()), Decimal(0)) for m in months}
    bridge = {}
    for m in months:
        prev_month = (m - timedelta(days=1)).replace(day=1)
        row = {"opening": total.get(prev_month, Decimal(0)), "closing": total[m]}
        for kind in MOVEMENTS:
            row[kind] = sum(
                (v for (_, mm, k), v in moves.items() if mm == m and k == kind), Decimal(0)
            )
        bridge[m] = row
    return bridge


def add_months(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def ratio(num: Decimal, den: Decimal) -> Decimal | None:
    """A fraction at 6 decimals, half away from zero; NULL on a zero denominator (R6 decision 1)."""
    if den == 0:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def expected_retention(series) -> dict[date, dict]:
    """R6 per month: logo churn, gross / net MRR churn, trailing-12 NRR / GRR."""
    zero = Decimal(0)
    out = {}
    for m in sorted({m for s in series.values() for m in s}):
        rows = [
            (s[m], s.get(add_months(m, -1), zero), s.get(add_months(m, -12), zero))
            for s in series.values()
            if m in s
        ]
        prev_active = [(cur, prev) for cur, prev, _ in rows if prev > 0]
        churned = [prev for cur, prev in prev_active if cur == 0]
        contraction = sum((prev - cur for cur, prev in prev_active if 0 < cur < prev), zero)
        expansion = sum((cur - prev for cur, prev in prev_active if cur > prev), zero)
        opening = sum((prev for _, prev in prev_active), zero)
        base = [(cur, ago) for cur, _, ago in rows if ago > 0]
        base_mrr = sum((ago for _, ago in base), zero)
        out[m] = {
            "active_accounts": sum(1 for cur, _, _ in rows if cur > 0),
            "churned_accounts": len(churned),
            "logo_churn_rate": ratio(len(churned), len(prev_active)),
            "gross_mrr_churn_rate": ratio(sum(churned, zero) + contraction, opening),
            "net_mrr_churn_rate": ratio(sum(churned, zero) + contraction - expansion, opening),
            "nrr_t12": ratio(sum((cur for cur, _ in base), zero), base_mrr),
            "grr_t12": ratio(sum((min(cur, ago) for cur, ago in base), zero), base_mrr),
        }
    return out


# --- the warehouse -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def periods() -> list[dict]:
    return read_periods()


@pytest.fixture(scope="module")
def series(periods):
    return expected_mrr(periods)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, periods) -> Path:
    tmp = tmp_path_factory.mktemp("dbt_mrr_playbook")
    db = make_dev_db().build_dev_db(tmp / "playbook.duckdb", raw_rows(periods))
    dbt_build(
        db,
        tmp,
        AS_OF.isoformat(),
        unit_tests=False,
        upstream_of=(
            "fct_mrr_monthly",
            "fct_mrr_movements",
            "mrr_bridge_monthly",
            "retention_monthly",
        ),
    )
    return db


# --- the expected figures themselves (hand-checkable anchors) -----------------------------------


def test_expected_figures_anchor(periods, series):
    assert len(periods) == 121 and len(series) == 55
    # customer 1: 50 for Nov 2018 - Jan 2019, nothing Feb - Mar, 50 Apr - May, 75 Jun - Jul 2019
    c1 = {m.isoformat()[:7]: v for m, v in series["C1"].items() if v}
    assert c1 == {
        "2018-11": 50,
        "2018-12": 50,
        "2019-01": 50,
        "2019-04": 50,
        "2019-05": 50,
        "2019-06": 75,
        "2019-07": 75,
    }
    moves = expected_movements(series)
    c1_moves = sorted((m.isoformat()[:7], k, v) for (a, m, k), v in moves.items() if a == "C1")
    assert c1_moves == [
        ("2018-11", "new", 50),
        ("2019-02", "churn", -50),
        ("2019-04", "reactivation", 50),
        ("2019-06", "expansion", 25),
        ("2019-08", "churn", -75),
    ]
    bridge = expected_bridge(series, moves)
    assert len(bridge) == 30  # 2017-09 .. 2020-02
    assert bridge[date(2020, 2, 1)]["closing"] == 0
    assert bridge[date(2020, 2, 1)]["churn"] == -bridge[date(2020, 2, 1)]["opening"]


# --- the warehouse against the definitions -----------------------------------------------------


def test_fct_mrr_monthly_equals_periods_active_on_month_end(warehouse, series):
    rows = q(
        warehouse, "select account_id, month, currency, mrr, mrr_usd from marts.fct_mrr_monthly"
    )
    got = {(a, m): (cur, mrr, usd) for a, m, cur, mrr, usd in rows}
    want = {(a, m): ("USD", v, v) for a, s in series.items() for m, v in s.items()}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong = sorted((k, got[k], want[k]) for k in set(got) & set(want) if got[k] != want[k])
    assert (missing, extra, wrong) == ([], [], [])


def test_fct_mrr_movements_classified_per_r5(warehouse, series):
    rows = q(
        warehouse,
        "select account_id, month, movement_type, amount, amount_usd from marts.fct_mrr_movements",
    )
    fx = [r for r in rows if r[2] == "fx"]
    assert fx == []  # USD only: no FX effect
    got = {(a, m, k): (amount, usd) for a, m, k, amount, usd in rows}
    want = {k: (v, v) for k, v in expected_movements(series).items()}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong = sorted((k, got[k], want[k]) for k in set(got) & set(want) if got[k] != want[k])
    assert (missing, extra, wrong) == ([], [], [])


def test_mrr_bridge_closes_and_matches_python_movements(warehouse, series):
    rows = q(
        warehouse,
        """select month, opening_mrr_usd, new_usd, reactivation_usd, expansion_usd,
                  contraction_usd, churn_usd, fx_usd, closing_mrr_usd
           from marts.mrr_bridge_monthly order by month""",
    )
    bridge = expected_bridge(series, expected_movements(series))
    assert [r[0] for r in rows] == sorted(bridge)
    for month, opening, new, react, exp, contr, churn, fx, closing in rows:
        assert opening + new + react + exp + contr + churn + fx == closing, month
        assert fx == 0, month
        want = bridge[month]
        got = {
            "opening": opening,
            "new": new,
            "reactivation": react,
            "expansion": exp,
            "contraction": contr,
            "churn": churn,
            "closing": closing,
        }
        assert got == want, month


def test_mrr_bridge_literal_months(warehouse):
    """Three months written out (the Python series above printed once and pinned here)."""
    rows = {
        m.isoformat()[:7]: tuple(v)
        for m, *v in q(
            warehouse,
            """select month, opening_mrr_usd, new_usd, reactivation_usd, expansion_usd,
                      contraction_usd, churn_usd, closing_mrr_usd
               from marts.mrr_bridge_monthly
               where month in ('2017-09-01', '2019-12-01', '2020-02-01')""",
        )
    }
    # opening, new, reactivation, expansion, contraction, churn, closing
    assert rows == {
        "2017-09": (0, 75, 0, 0, 0, 0, 75),  # the first month: two customers start
        "2019-12": (1840, 100, 0, 50, -30, -705, 1255),  # 17 of 42 customers churn
        "2020-02": (175, 0, 0, 0, 0, -175, 0),  # every period has ended by 2020-02-01
    }


def test_retention_monthly_per_r6(warehouse, series):
    cols = (
        "active_accounts",
        "churned_accounts",
        "logo_churn_rate",
        "gross_mrr_churn_rate",
        "net_mrr_churn_rate",
        "nrr_t12",
        "grr_t12",
    )
    rows = q(warehouse, f"select month, {', '.join(cols)} from marts.retention_monthly")
    got = {m: dict(zip(cols, rest, strict=True)) for m, *rest in rows}
    want = expected_retention(series)
    assert sorted(got) == sorted(want)
    wrong = {m: (got[m], want[m]) for m in want if got[m] != want[m]}
    assert wrong == {}


def test_retention_logo_churn_literal_months(warehouse):
    """Logo churn = churned in M / accounts with MRR > 0 at the end of M−1 (R6), written out."""
    rows = {
        m.isoformat()[:7]: (churned, rate)
        for m, churned, rate in q(
            warehouse,
            """select month, churned_accounts, logo_churn_rate from marts.retention_monthly
               where month in ('2017-12-01', '2019-02-01', '2019-08-01', '2019-12-01',
                               '2020-01-01')""",
        )
    }
    assert rows == {
        "2017-12": (0, None),  # nobody had MRR at the end of November 2017
        "2019-02": (1, Decimal("0.076923")),  # 1 / 13
        "2019-08": (3, Decimal("0.115385")),  # 3 / 26
        "2019-12": (17, Decimal("0.404762")),  # 17 / 42
        "2020-01": (28, Decimal("1.000000")),  # 28 / 28 (new customers of January excluded)
    }
