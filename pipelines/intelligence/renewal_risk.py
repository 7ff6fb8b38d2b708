"""Renewal risk (docs/metrics.md M1): a logistic regression over the dbt features of every
account-month (`intermediate.int_account_features_assembled`), backtested on held-out months and
scored on the as-of month, written into the build file as `marts.account_health` and
`marts.model_quality`.

Each score carries its reasons: the three features that raise this account's score the most
(coefficient × standardised value), said in words with the account's own values. Deterministic:
the rows are read in a fixed order, the solver has no randomness and runs on one thread.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

FEATURES_TABLE = "intermediate.int_account_features_assembled"
HEALTH_TABLE = "marts.account_health"
QUALITY_TABLE = "marts.model_quality"
MODEL = "logistic_regression"
BASELINE = "baseline_tickets_90d"
MODEL_VERSION = "renewal-risk-logreg-1"
#: Months after an observation whose snapshots make its label (churn within 90 days).
HORIZON_MONTHS = 3
#: Held-out observation months of the backtest (the latest whose outcome is known).
TEST_MONTHS = 6
#: Fewer labelled churns (or non-churns) than this: no model is fitted, nothing is scored.
MIN_CLASS_ROWS = 10
#: Regularisation strength (inverse) of the logistic regression; fixed, not tuned on test months.
C = 1.0
#: Score bands: a score is the churn probability in percent (docs/metrics.md M1).
HIGH_FROM, MEDIUM_FROM = 20, 8
ABSENT_RENEWAL_DAYS = 400
#: The most labelled account-months read to fit the model: above it, the whole histories of every
#: k-th account by id (k the smallest that fits), so the step's memory is bounded at any scale.
MAX_TRAIN_ROWS = 250_000

#: The columns read from the features table (every feature and the label; nothing else).
READ_COLUMNS = (
    "account_id",
    "month",
    "observed_at",
    "account_name",
    "segment",
    "region",
    "arr_usd",
    "mrr_usd",
    "mrr_usd_6m_ago",
    "tenure_months",
    "expansions_6m",
    "contractions_6m",
    "seats",
    "seats_6m_ago",
    "usage_1m",
    "usage_prior_3m",
    "tickets_90d",
    "tickets_prior_275d",
    "sla_missed_90d",
    "rated_tickets_90d",
    "csat_sum_90d",
    "failed_payments_90d",
    "max_days_past_due",
    "onboarding_delay_days",
    "renewal_date",
    "days_to_renewal",
    "churned_next_90d",
    "is_label_known",
)

HEALTH_COLUMNS: dict[str, tuple[str, str]] = {
    "as_of_date": ("DATE", "The build's as-of date: the scores are for the 90 days after it."),
    "account_id": ("VARCHAR", "Account with MRR > 0 on the as-of date (one row each)."),
    "account_name": ("VARCHAR", "The account's name (dim_accounts)."),
    "segment": ("VARCHAR", "smb, mid_market or enterprise."),
    "region": ("VARCHAR", "Sales region."),
    "arr_usd": ("DECIMAL(18,2)", "ARR on the as-of date, reporting currency (fct_mrr_monthly)."),
    "contract_end_date": (
        "DATE",
        "Next renewal date of the contracts in force (start + k × term); NULL without a contract.",
    ),
    "days_to_renewal": ("INTEGER", "Days from the as-of date to contract_end_date."),
    "risk_score": (
        "INTEGER",
        "Probability (percent, 0–100) that the account churns (R5) within the next three month "
        "snapshots; NULL when the history is too short to fit the model.",
    ),
    "risk_band": (
        "VARCHAR",
        f"high (score ≥ {HIGH_FROM}), medium (≥ {MEDIUM_FROM}) or low; NULL when unscored.",
    ),
    "reason_1": ("VARCHAR", "The feature raising this account's score most, with its value."),
    "reason_2": ("VARCHAR", "The second (NULL when fewer features raise the score)."),
    "reason_3": ("VARCHAR", "The third (NULL when fewer features raise the score)."),
    "model_version": ("VARCHAR", "The model that scored the row and what it was trained on."),
}
QUALITY_COLUMNS: dict[str, tuple[str, str]] = {
    "model": ("VARCHAR", f"{MODEL} (the renewal-risk model) or {BASELINE} (tickets alone)."),
    "train_months": ("VARCHAR", "Observation months trained on, first..last (YYYY-MM)."),
    "test_months": ("VARCHAR", "Held-out observation months, first..last (YYYY-MM)."),
    "auc": ("DOUBLE", "Area under the ROC curve on the held-out observations."),
    "precision_top_decile": (
        "DOUBLE",
        "Share of churners among the tenth of held-out observations scored highest.",
    ),
    "base_rate": ("DOUBLE", "Share of churners among the held-out observations."),
    "n_test": ("INTEGER", "Held-out observations (account-months)."),
    "as_of_date": ("DATE", "The build's as-of date."),
}
HEALTH_DESCRIPTION = (
    "M1 renewal risk: one row per account with MRR on the as-of date, its churn-risk score for "
    "the next 90 days and the three features that raise it most, in words."
)
QUALITY_DESCRIPTION = (
    "M1 renewal risk backtest: the model and a tickets-only baseline on held-out months (AUC, "
    "precision in the top decile, base rate)."
)


def _ratio_change(now: pd.Series, before: pd.Series) -> np.ndarray:
    """now / before − 1, clipped to [−1, 2]; 0 when there was nothing before."""
    b = before.astype(float).to_numpy()
    n = now.astype(float).to_numpy()
    out = np.zeros(len(b))
    has = b > 0
    out[has] = n[has] / b[has] - 1
    return np.clip(out, -1.0, 2.0)


def _csat(d: pd.DataFrame) -> np.ndarray:
    rated = d["rated_tickets_90d"].astype(float).to_numpy()
    total = d["csat_sum_90d"].astype(float).fillna(0).to_numpy()
    return np.where(rated > 0, total / np.maximum(rated, 1), np.nan)


def _usual_tickets(d: pd.DataFrame) -> np.ndarray:
    """Tickets an account usually raises in 90 days: its rate over the 275 days before the
    window (or the part of them it was a customer), NaN with less than 60 days of history."""
    days = np.clip(d["tenure_months"].astype(float).to_numpy() * 30.44 - 90, 0, 275)
    prior = d["tickets_prior_275d"].astype(float).to_numpy()
    return np.where(days >= 60, prior * 90 / np.maximum(days, 1), np.nan)


def _ticket_surge(d: pd.DataFrame) -> np.ndarray:
    """log(1 + tickets of the last 90 days) − log(1 + the usual number); 0 without history."""
    usual = _usual_tickets(d)
    now = np.log1p(d["tickets_90d"].astype(float).to_numpy())
    return np.where(np.isnan(usual), 0.0, now - np.log1p(np.nan_to_num(usual)))


def _pct(x: float) -> str:
    return f"{x * 100:+.0f}%".replace("-", "−")


def _money(x: float) -> str:
    return f"${x / 1000:,.1f}K" if x >= 1000 else f"${x:,.0f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Feature:
    """One model input: how it is computed from the features table and how it is said in a
    reason, with the account's own values. `direction`: +1 when a higher value means more risk
    in words, −1 when a lower one does; the value that says nothing unusual is 0, or the
    average account's when `neutral_is_mean`. A feature is a reason only on its risky side."""

    name: str
    compute: Callable[[pd.DataFrame], np.ndarray]
    reason: Callable[[pd.Series], str]
    direction: int = 1
    neutral_is_mean: bool = False


FEATURES: tuple[Feature, ...] = (
    Feature(
        "mrr_change_6m",
        lambda d: _ratio_change(d["mrr_usd"], d["mrr_usd_6m_ago"]),
        lambda r: (
            f"MRR {_pct(_ratio_change(r[['mrr_usd']], r[['mrr_usd_6m_ago']])[0])} over 6 months"
        ),
        direction=-1,
    ),
    Feature(
        "contractions_6m",
        lambda d: d["contractions_6m"].astype(float).to_numpy(),
        lambda r: f"{_plural(int(r['contractions_6m']), 'contraction')} in 6 months",
    ),
    Feature(
        "expansions_6m",
        lambda d: d["expansions_6m"].astype(float).to_numpy(),
        lambda r: f"{_plural(int(r['expansions_6m']), 'expansion')} in 6 months",
        direction=-1,
    ),
    Feature(
        "seats_change_6m",
        lambda d: _ratio_change(d["seats"], d["seats_6m_ago"]),
        lambda r: (
            f"seats {_pct(_ratio_change(r[['seats']], r[['seats_6m_ago']])[0])} over 6 months"
        ),
        direction=-1,
    ),
    Feature(
        "usage_change_1m",
        lambda d: _ratio_change(3 * d["usage_1m"], d["usage_prior_3m"]),
        lambda r: (
            f"usage {_pct(_ratio_change(3 * r[['usage_1m']], r[['usage_prior_3m']])[0])} "
            "this month vs the 3 before"
        ),
        direction=-1,
    ),
    Feature(
        "tickets_90d",
        lambda d: np.log1p(d["tickets_90d"].astype(float).to_numpy()),
        lambda r: f"{_plural(int(r['tickets_90d']), 'ticket')} in the last 90 days",
    ),
    Feature(
        "ticket_surge",
        _ticket_surge,
        lambda r: (
            f"{_plural(int(r['tickets_90d']), 'ticket')} in 90 days, "
            f"usually {_usual_tickets(r.to_frame().T)[0]:.1f}"
        ),
    ),
    Feature(
        "csat_shortfall",
        # how far the average CSAT of the rated tickets falls below 4 (0 when unrated or ≥ 4)
        lambda d: np.clip(4.0 - np.nan_to_num(_csat(d), nan=4.0), 0, None),
        lambda r: f"CSAT {_csat(r.to_frame().T)[0]:.1f} over the last 90 days",
    ),
    Feature(
        "sla_missed_90d",
        lambda d: np.minimum(d["sla_missed_90d"].astype(float).to_numpy(), 5),
        lambda r: f"{_plural(int(r['sla_missed_90d']), 'SLA miss')} in 90 days".replace(
            "misss", "misses"
        ),
    ),
    Feature(
        "failed_payments_90d",
        lambda d: np.minimum(d["failed_payments_90d"].astype(float).to_numpy(), 5),
        lambda r: f"{_plural(int(r['failed_payments_90d']), 'failed payment')} in 90 days",
    ),
    Feature(
        "days_past_due",
        lambda d: np.log1p(d["max_days_past_due"].astype(float).to_numpy()),
        lambda r: f"an invoice {_plural(int(r['max_days_past_due']), 'day')} past due",
    ),
    Feature(
        "onboarding_delay",
        lambda d: np.log1p(d["onboarding_delay_days"].astype(float).to_numpy()),
        lambda r: f"onboarding {_plural(int(r['onboarding_delay_days']), 'day')} past its target",
    ),
    Feature(
        "renewal_within_90d",
        lambda d: (
            (d["days_to_renewal"].fillna(ABSENT_RENEWAL_DAYS).astype(float) <= 92)
            .astype(float)
            .to_numpy()
        ),
        lambda r: f"renewal in {_plural(int(r['days_to_renewal']), 'day')}",
    ),
    Feature(
        "account_size",
        lambda d: -np.log(np.maximum(d["arr_usd"].astype(float).to_numpy(), 1.0)),
        lambda r: f"small account (ARR {_money(float(r['arr_usd']))})",
        neutral_is_mean=True,
    ),
    Feature(
        "new_customer",
        lambda d: -np.log1p(d["tenure_months"].astype(float).to_numpy()),
        lambda r: f"customer for {_plural(int(r['tenure_months']), 'month')}",
        neutral_is_mean=True,
    ),
)


def feature_matrix(d: pd.DataFrame) -> np.ndarray:
    return (
        np.column_stack([f.compute(d) for f in FEATURES])
        if len(d)
        else np.zeros((0, len(FEATURES)))
    )


def sample_stride(con: duckdb.DuckDBPyConnection) -> int:
    """k of "every k-th account": 1 (every account) up to MAX_TRAIN_ROWS labelled rows."""
    n = con.execute(f"SELECT count(*) FROM {FEATURES_TABLE} WHERE is_label_known").fetchall()[0][0]
    return max(1, math.ceil(n / MAX_TRAIN_ROWS))


def read_observations(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, stride: int = 1
) -> pd.DataFrame:
    """The labelled account-months of every `stride`-th account (by id) and every account of the
    as-of month, in a fixed order: all the model reads, in a frame of bounded size."""
    cols = ", ".join(READ_COLUMNS)
    table = con.sql(
        f"""
        WITH kept AS (
            SELECT account_id FROM (
                SELECT account_id, row_number() OVER (ORDER BY account_id) AS k
                FROM (SELECT DISTINCT account_id FROM {FEATURES_TABLE} WHERE is_label_known) a
            ) r
            WHERE k % $stride = 0
        )
        SELECT {cols} FROM {FEATURES_TABLE}
        WHERE month = $month OR (is_label_known AND account_id IN (SELECT account_id FROM kept))
        ORDER BY month, account_id""",
        params={"stride": stride, "month": dt.date(as_of.year, as_of.month, 1)},
    )
    d = table.to_arrow_table().to_pandas()
    d["month"] = pd.to_datetime(d["month"]).dt.date
    return d


def _months(ms: list[dt.date]) -> str:
    return f"{min(ms):%Y-%m}..{max(ms):%Y-%m}" if ms else ""


def _fit(X: np.ndarray, y: np.ndarray) -> tuple[StandardScaler, LogisticRegression]:
    # scikit-learn is imported when a model is fitted: it costs seconds, and importing the
    # Dagster definitions (every CLI command, every build) must not pay them
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    model = LogisticRegression(C=C, max_iter=2000, solver="lbfgs")
    model.fit(scaler.transform(X), y)
    return scaler, model


def _fittable(y: np.ndarray) -> bool:
    return int(y.sum()) >= MIN_CLASS_ROWS and int((1 - y).sum()) >= MIN_CLASS_ROWS


def _precision_top_decile(y: np.ndarray, score: np.ndarray, order_key: np.ndarray) -> float:
    """Churners among the ceil(10 %) highest scores (ties broken by the rows' fixed order)."""
    k = max(1, math.ceil(len(y) / 10))
    idx = np.lexsort((order_key, -score))[:k]
    return float(y[idx].mean())


def backtest(d: pd.DataFrame, as_of: dt.date) -> list[dict]:
    """The model and the tickets-only baseline on the latest TEST_MONTHS labelled months,
    trained on the months whose outcome was complete before the first of them."""
    known = d[d["is_label_known"]]
    months = sorted(known["month"].unique())
    if len(months) < TEST_MONTHS + HORIZON_MONTHS + 3:
        return []
    test_ms = months[-TEST_MONTHS:]
    cut = _add_months(test_ms[0], -HORIZON_MONTHS)
    train = known[known["month"] <= cut]
    test = known[known["month"].isin(test_ms)]
    y_tr = train["churned_next_90d"].to_numpy().astype(int)
    y_te = test["churned_next_90d"].to_numpy().astype(int)
    if not _fittable(y_tr) or y_te.sum() == 0 or y_te.sum() == len(y_te):
        return []
    from sklearn.metrics import roc_auc_score

    scaler, model = _fit(feature_matrix(train), y_tr)
    p = model.predict_proba(scaler.transform(feature_matrix(test)))[:, 1]
    base = test["tickets_90d"].astype(float).to_numpy()
    order = np.arange(len(test))
    common = {
        "train_months": _months(sorted(train["month"].unique())),
        "test_months": _months(test_ms),
        "base_rate": float(y_te.mean()),
        "n_test": len(y_te),
        "as_of_date": as_of,
    }
    return [
        {
            "model": name,
            **common,
            "auc": float(roc_auc_score(y_te, s)),
            "precision_top_decile": _precision_top_decile(y_te, s, order),
        }
        for name, s in ((MODEL, p), (BASELINE, base))
    ]


def _add_months(d: dt.date, n: int) -> dt.date:
    k = d.year * 12 + d.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)


def _band(score: int) -> str:
    return "high" if score >= HIGH_FROM else "medium" if score >= MEDIUM_FROM else "low"


def _reasons(
    row: pd.Series, values: np.ndarray, contributions: np.ndarray, coef: np.ndarray
) -> list[str | None]:
    """The (up to) three features with the largest positive contribution, in words: only those
    the model reads in their stated direction and the account is on the risky side of."""

    def risky(i: int) -> bool:
        f = FEATURES[i]
        said_right = coef[i] * f.direction > 0 and contributions[i] > 0
        return said_right and (f.neutral_is_mean or values[i] * f.direction > 0)

    order = sorted(
        (i for i in range(len(FEATURES)) if risky(i)),
        key=lambda i: (-contributions[i], FEATURES[i].name),
    )[:3]
    said: list[str | None] = [FEATURES[i].reason(row) for i in order]
    return said + [None] * (3 - len(said))


def score(d: pd.DataFrame, as_of: dt.date, stride: int = 1) -> list[dict]:
    """One row per account with MRR on the as-of date: a model fitted on every labelled month
    (of every `stride`-th account), its probability in percent, band and reasons (unscored when
    the history is too short)."""
    current = d[d["month"] == dt.date(as_of.year, as_of.month, 1)]
    known = d[d["is_label_known"]]
    y = known["churned_next_90d"].to_numpy().astype(int)
    fitted = _fit(feature_matrix(known), y) if _fittable(y) else None
    months = sorted(known["month"].unique())
    sample = f", 1 in {stride} accounts" if stride > 1 else ""
    version = (
        f"{MODEL_VERSION} trained {_months(months)}{sample}"
        if fitted
        else "unscored: short history"
    )
    if fitted and len(current):
        scaler, model = fitted
        values = feature_matrix(current)
        z = scaler.transform(values)
        probs = model.predict_proba(z)[:, 1]
        contributions = z * model.coef_[0]
    rows = []
    for i, (_, r) in enumerate(current.iterrows()):
        days = r["days_to_renewal"]
        base = {
            "as_of_date": as_of,
            "account_id": r["account_id"],
            "account_name": r["account_name"],
            "segment": r["segment"],
            "region": r["region"],
            "arr_usd": Decimal(str(r["arr_usd"])).quantize(Decimal("0.01")),
            "contract_end_date": None if pd.isna(r["renewal_date"]) else r["renewal_date"],
            "days_to_renewal": None if pd.isna(days) else int(days),
            "model_version": version,
        }
        if fitted:
            s = math.floor(100 * float(probs[i]) + 0.5)
            reasons = _reasons(r, values[i], contributions[i], model.coef_[0])
            base |= {"risk_score": s, "risk_band": _band(s)}
        else:
            reasons = [None, None, None]
            base |= {"risk_score": None, "risk_band": None}
        rows.append(base | dict(zip(("reason_1", "reason_2", "reason_3"), reasons, strict=True)))
    rows.sort(key=lambda r: (-(r["risk_score"] or 0), r["account_id"]))
    return rows


def _write(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, tuple[str, str]],
    description: str,
    rows: list[dict],
) -> None:
    """Replace `table` with `rows`, typed as declared, with its comments."""
    ddl = ", ".join(f"{c} {t}" for c, (t, _) in columns.items())
    con.execute(f"CREATE OR REPLACE TABLE {table} ({ddl})")
    if rows:
        data = pa.Table.from_pylist([{c: r[c] for c in columns} for r in rows])
        con.register("__rows", data)
        casts = ", ".join(f"CAST({c} AS {t})" for c, (t, _) in columns.items())
        con.execute(f"INSERT INTO {table} SELECT {casts} FROM __rows")
        con.unregister("__rows")
    con.execute(f"COMMENT ON TABLE {table} IS {_literal(description)}")
    for c, (_, text) in columns.items():
        con.execute(f"COMMENT ON COLUMN {table}.{c} IS {_literal(text)}")


def _literal(text: str) -> str:
    """A SQL string literal of this module's own descriptions (COMMENT takes no parameter)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class RiskResult:
    scored: int
    high: int
    quality: list[dict]


def build_renewal_risk(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> RiskResult:
    """Read the features, backtest, score the as-of month, write both marts (one transaction)."""
    from threadpoolctl import threadpool_limits

    stride = sample_stride(con)
    d = read_observations(con, as_of, stride)
    with threadpool_limits(limits=1):
        quality = backtest(d, as_of)
        health = score(d, as_of, stride)
    con.execute("BEGIN")
    try:
        _write(con, HEALTH_TABLE, HEALTH_COLUMNS, HEALTH_DESCRIPTION, health)
        _write(con, QUALITY_TABLE, QUALITY_COLUMNS, QUALITY_DESCRIPTION, quality)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return RiskResult(
        scored=sum(r["risk_score"] is not None for r in health),
        high=sum(r["risk_band"] == "high" for r in health),
        quality=quality,
    )


def health_problems(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[str]:
    """What is wrong with the two marts (empty when they are well-formed): their columns and
    types as declared, one row per account with MRR on the as-of date, scores 0–100 with a
    matching band, AUC and rates between 0 and 1."""
    problems = []
    for table, columns in ((HEALTH_TABLE, HEALTH_COLUMNS), (QUALITY_TABLE, QUALITY_COLUMNS)):
        schema, name = table.split(".")
        got = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = $s AND table_name = $n ORDER BY ordinal_position",
            {"s": schema, "n": name},
        ).fetchall()
        want = [(c, t) for c, (t, _) in columns.items()]
        if got != want:
            problems.append(f"{table} has columns {got or 'none'}, expected {want}")
    if problems:
        return problems
    checks = {
        "accounts with MRR on the as-of date missing or repeated": f"""
            SELECT count(*) FROM (
                SELECT account_id FROM {FEATURES_TABLE} WHERE month = $m
            ) f FULL JOIN (
                SELECT account_id, count(*) AS n FROM {HEALTH_TABLE} GROUP BY account_id
            ) h USING (account_id)
            WHERE h.account_id IS NULL OR f.account_id IS NULL OR h.n <> 1""",
        "scores outside 0–100 or bands that do not match them": f"""
            SELECT count(*) FROM {HEALTH_TABLE}
            WHERE as_of_date <> $a
               OR (risk_score IS NULL) <> (risk_band IS NULL)
               OR risk_score NOT BETWEEN 0 AND 100
               OR risk_band <> CASE WHEN risk_score >= {HIGH_FROM} THEN 'high'
                                    WHEN risk_score >= {MEDIUM_FROM} THEN 'medium'
                                    ELSE 'low' END
               OR (risk_score IS NOT NULL AND reason_1 IS NULL AND reason_2 IS NOT NULL)""",
        "backtest rows with AUC or rates outside 0–1": f"""
            SELECT count(*) FROM {QUALITY_TABLE}
            WHERE as_of_date <> $a OR n_test <= 0
               OR auc NOT BETWEEN 0 AND 1
               OR precision_top_decile NOT BETWEEN 0 AND 1
               OR base_rate NOT BETWEEN 0 AND 1""",
    }
    month = dt.date(as_of.year, as_of.month, 1)
    for what, sql in checks.items():
        params = {"m": month} if "$m" in sql else {"a": as_of}
        n = con.execute(sql, params).fetchall()[0][0]
        if n:
            problems.append(f"{n} {what}")
    return problems
