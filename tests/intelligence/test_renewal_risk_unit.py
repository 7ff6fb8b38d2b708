"""Renewal risk (docs/metrics.md M1) on hand-made observations: reasons in words with the
account's own values, unscored rows when the history is too short, the marts' declared shape.
No warehouse build: a few hundred synthetic account-months in memory."""

import contextlib
import datetime as dt
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd

from pipelines.intelligence import renewal_risk as rr

AS_OF = dt.date(2026, 10, 31)


def _month(k: int) -> dt.date:
    return dt.date(2025 + (k // 12), k % 12 + 1, 1)


def observations(n_accounts: int = 40, months: int = 22, seed: int = 1) -> pd.DataFrame:
    """Accounts whose churners have poor CSAT and falling usage (month 0 = 2025-01)."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_accounts):
        for k in range(months):
            m = _month(k)
            churn = int(rng.random() < 0.12)
            rows.append(
                {
                    "account_id": f"ACC-{a:03d}",
                    "month": m,
                    "observed_at": m,
                    "account_name": f"Account {a}",
                    "segment": "smb",
                    "region": "na",
                    "arr_usd": Decimal("12000.00"),
                    "mrr_usd": Decimal("1000.00"),
                    "mrr_usd_6m_ago": Decimal("1000.00"),
                    "tenure_months": k,
                    "expansions_6m": 0,
                    "contractions_6m": int(churn and rng.random() < 0.5),
                    "seats": Decimal(10),
                    "seats_6m_ago": Decimal(10),
                    "usage_1m": Decimal(130 if churn else 330),
                    "tickets_prior_275d": 6,
                    "usage_prior_3m": Decimal(1000),
                    "tickets_90d": int(rng.integers(0, 4)),
                    "sla_missed_90d": int(churn),
                    "rated_tickets_90d": 2,
                    "csat_sum_90d": Decimal("4.2") if churn else Decimal("9.0"),
                    "failed_payments_90d": 0,
                    "max_days_past_due": 0,
                    "onboarding_delay_days": 0,
                    "renewal_date": dt.date(2026, 12, 1),
                    "days_to_renewal": 31,
                    "churned_next_90d": churn,
                    "is_label_known": k < months - 3,
                }
            )
    return pd.DataFrame(rows)


def test_reasons_name_the_accounts_own_values():
    d = observations()
    current = d["month"] == _month(21)
    d.loc[current & (d["account_id"] == "ACC-000"), ["csat_sum_90d", "usage_1m"]] = [
        Decimal("4.2"),
        Decimal(130),
    ]
    rows = rr.score(d, dt.date(2026, 10, 31))
    assert len(rows) == 40
    top = next(r for r in rows if r["account_id"] == "ACC-000")
    said = {top["reason_1"], top["reason_2"], top["reason_3"]}
    assert "CSAT 2.1 over the last 90 days" in said, said
    assert "usage −61% this month vs the 3 before" in said, said
    assert 0 <= top["risk_score"] <= 100 and top["risk_band"] in ("high", "medium", "low")
    assert top["model_version"].startswith(rr.MODEL_VERSION)


def test_backtest_holds_out_the_latest_labelled_months():
    d = observations(months=22)
    rows = rr.backtest(d, AS_OF)
    assert [r["model"] for r in rows] == [rr.MODEL, rr.BASELINE]
    # labelled months 2025-01 … 2026-07; the last six are held out, training ends three before
    assert rows[0]["test_months"] == "2026-02..2026-07"
    assert rows[0]["train_months"] == "2025-01..2025-11"
    assert rows[0]["n_test"] == 6 * 40
    assert rows[0]["auc"] > 0.9 > 0.7 > rows[1]["auc"]


def test_short_history_is_listed_unscored():
    d = observations(n_accounts=5, months=6)
    rows = rr.score(d, dt.date(2025, 6, 30))
    assert len(rows) == 5
    assert {r["risk_score"] for r in rows} == {None}
    assert {r["model_version"] for r in rows} == {"unscored: short history"}
    assert rr.backtest(d, AS_OF) == []


def test_marts_are_written_with_their_declared_columns():
    d = observations()
    with contextlib.closing(duckdb.connect()) as con:
        con.execute("CREATE SCHEMA intermediate")
        con.execute("CREATE SCHEMA marts")
        con.register("__d", d)
        con.execute(f"CREATE TABLE {rr.FEATURES_TABLE} AS SELECT * FROM __d")
        as_of = dt.date(2026, 10, 31)
        first = rr.build_renewal_risk(con, as_of)
        assert first.scored == 40
        assert rr.health_problems(con, as_of) == []
        before = con.execute(f"SELECT * FROM {rr.HEALTH_TABLE} ORDER BY account_id").fetchall()
        rr.build_renewal_risk(con, as_of)
        after = con.execute(f"SELECT * FROM {rr.HEALTH_TABLE} ORDER BY account_id").fetchall()
        assert before == after  # deterministic
        con.execute(f"UPDATE {rr.HEALTH_TABLE} SET risk_band = 'low' WHERE risk_score >= 20")
        con.execute(f"DELETE FROM {rr.HEALTH_TABLE} WHERE account_id = 'ACC-001'")
        problems = rr.health_problems(con, as_of)
        assert any("missing or repeated" in p for p in problems), problems


def test_a_large_history_is_read_as_every_kth_account_and_every_current_account(monkeypatch):
    """Above MAX_TRAIN_ROWS labelled rows the model reads whole histories of every k-th account
    (bounded memory at any scale) and still scores every account of the as-of month."""
    d = observations(n_accounts=40, months=22)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA intermediate; CREATE SCHEMA marts")
    con.register("obs", d)
    con.execute(f"CREATE TABLE {rr.FEATURES_TABLE} AS SELECT * FROM obs")
    con.unregister("obs")
    assert rr.sample_stride(con) == 1
    monkeypatch.setattr(rr, "MAX_TRAIN_ROWS", 200)
    # 40 accounts × 19 labelled months = 760 rows: every 4th account fits under 200
    assert rr.sample_stride(con) == 4
    read = rr.read_observations(con, AS_OF, 4)
    labelled = read[read["is_label_known"]]
    assert sorted(labelled["account_id"].unique()) == [f"ACC-{a:03d}" for a in range(3, 40, 4)]
    assert len(labelled) == 10 * 19
    assert (read["month"] == _month(21)).sum() == 40
    result = rr.build_renewal_risk(con, AS_OF)
    versions = con.execute(f"SELECT DISTINCT model_version FROM {rr.HEALTH_TABLE}").fetchall()
    assert result.scored == 40
    assert versions == [(f"{rr.MODEL_VERSION} trained 2025-01..2026-07, 1 in 4 accounts",)]
