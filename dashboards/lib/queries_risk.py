"""The Risk & anomalies page's SQL (issue 15: renewal risk, billing anomalies, exception triage,
vendor cost suggestions), no Streamlit.

Same rules as `queries`: pooled read-only connections, allow-listed relations, user values (the
global period, segment and region, a queue, a cause, a month) only as bound parameters; every
figure is a mart column. `marts.account_health` is written by the renewal-risk model (Python, not
dbt); the page asks `ui.has` first, so a build without it shows a note instead of failing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboards.lib.queries import MAX_ROWS, NotAllowedError, read, relation
from dashboards.lib.query_filters import account_dims, period

#: exception_triage.queue values.
QUEUES: tuple[str, ...] = ("billing", "loader")
#: Days ahead the at-risk renewals list looks.
RENEWAL_HORIZON_DAYS = 90
#: account_health.risk_band values, most at risk first.
RISK_BANDS: tuple[str, ...] = ("high", "medium", "low")


def _queue(queue: str) -> str:
    if queue not in QUEUES:
        raise NotAllowedError(f"unknown exception queue {queue!r}")
    return queue


def at_risk_renewals(
    path: Path,
    segment: str | None = None,
    region: str | None = None,
    days: int = RENEWAL_HORIZON_DAYS,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """account_health rows whose contract ends within `days` of the as-of date, high and medium
    risk bands, highest score first."""
    dims, params = account_dims("h", segment, region)
    return read(
        path,
        "SELECT h.account_id, h.account_name, h.segment, h.region, h.arr_usd, "
        "h.contract_end_date, h.days_to_renewal, h.risk_score, h.risk_band, "
        "h.reason_1, h.reason_2, h.reason_3 "
        f"FROM {relation('marts', 'account_health')} AS h "
        "WHERE h.days_to_renewal BETWEEN 0 AND ? AND h.risk_band IN ('high', 'medium') "
        f"AND {dims} "
        "ORDER BY h.risk_score DESC, h.arr_usd DESC, h.account_id LIMIT ?",
        [int(days), *params, int(limit)],
    )


def anomalies(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """billing_anomalies of the months start..end (of the segment's and region's accounts),
    high severity first, newest month first."""
    span, span_params = period("a.month", start, end)
    dims, dim_params = account_dims("d", segment, region)
    return read(
        path,
        "SELECT a.month, a.account_id, a.account_name, a.kind, a.severity, a.observed, "
        "a.expected_low, a.expected_high, a.evidence, a.row_ids "
        f"FROM {relation('marts', 'billing_anomalies')} AS a "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS d ON d.account_id = a.account_id "
        f"WHERE {span} AND {dims} "
        "ORDER BY CASE a.severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, "
        "a.month DESC, a.account_id, a.kind LIMIT ?",
        [*span_params, *dim_params, int(limit)],
    )


def exception_causes(
    path: Path, queue: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """exception_causes_monthly of one queue and the months start..end, oldest month first."""
    span, params = period("month", start, end)
    return read(
        path,
        "SELECT month, probable_cause, exceptions "
        f"FROM {relation('marts', 'exception_causes_monthly')} "
        f"WHERE queue = ? AND {span} ORDER BY month, probable_cause",
        [_queue(queue), *params],
    )


def exception_rows(
    path: Path,
    queue: str,
    cause: str | None = None,
    month: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """exception_triage rows of one queue (a cause and a month, or all of the period)."""
    span, params = period("month", month or start, month or end)
    return read(
        path,
        "SELECT month, account_id, exception_type, probable_cause, evidence, row_ref "
        f"FROM {relation('marts', 'exception_triage')} "
        f"WHERE queue = ? AND (?::VARCHAR IS NULL OR probable_cause = ?) AND {span} "
        "ORDER BY month DESC, probable_cause, exception_key LIMIT ?",
        [_queue(queue), cause, cause, *params, int(limit)],
    )


def vendor_suggestions(path: Path, limit: int = MAX_ROWS) -> pd.DataFrame:
    """vendor_cost_suggestions not yet accepted, most confident first."""
    return read(
        path,
        "SELECT bill_id, vendor_name, bill_date, amount, currency, suggested_family, confidence, "
        "evidence, accepted_family "
        f"FROM {relation('marts', 'vendor_cost_suggestions')} "
        "ORDER BY accepted_family IS NOT NULL, confidence DESC, bill_date DESC, bill_id LIMIT ?",
        [int(limit)],
    )


QUERIES = {
    f.__name__: f
    for f in (
        at_risk_renewals,
        anomalies,
        exception_causes,
        exception_rows,
        vendor_suggestions,
    )
}
