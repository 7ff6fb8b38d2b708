"""The Cash page's SQL (R8 receivables and collections, R9 billing leakage), no Streamlit.

Same rules as `queries`: pooled read-only connections, allow-listed relations, user values
(the aging bucket, a month, an exception type, the global filters' period, segment and region)
only as bound parameters and only from their allow-lists; every figure is a mart column (sums of
additive `_usd` columns per bucket are the one exception), ratios such as DSO and the failed
payment rate come from the marts, NULL where their denominator is zero.

Segment and region apply where the mart carries the account (ar_aging, fct_issued_invoices,
billing_exceptions, joined to dim_accounts); collections_monthly and billing_leakage_monthly are
company-wide and take the period only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboards.lib.queries import (
    AGING_BUCKETS,
    MAX_ROWS,
    NotAllowedError,
    months_of,
    read,
    relation,
)
from dashboards.lib.query_filters import account_dims, month_start, period

#: billing_exceptions.exception_type values (R9), the exceptions filter's allow-list.
EXCEPTION_TYPES: tuple[str, ...] = (
    "missing_in_billing",
    "unexpected_in_billing",
    "amount_mismatch",
)


def _bucket(bucket: str) -> str:
    """The bucket if it is one of R8's five labels, else `NotAllowedError` (never SQL text)."""
    if bucket not in AGING_BUCKETS:
        raise NotAllowedError(f"aging bucket {bucket!r} is not one of {list(AGING_BUCKETS)}")
    return bucket


def aging_summary(
    path: Path, segment: str | None = None, region: str | None = None
) -> pd.DataFrame:
    """All five buckets in order (empty ones with 0 invoices): invoices, open balance in the
    reporting currency, invoices left out of it for a missing FX rate, and invoices with a credit
    balance (paid above their total: negative open), of the accounts of the segment and region
    (None: all)."""
    dims, params = account_dims("d", segment, region)
    return read(
        path,
        "WITH a AS (SELECT a.* "
        f"FROM {relation('marts', 'ar_aging')} AS a "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS d ON d.account_id = a.account_id "
        f"WHERE {dims}) "
        "SELECT b.bucket, count(a.invoice_id) AS invoices, "
        "coalesce(sum(a.open_usd), 0)::DECIMAL(18, 2) AS open_usd, "
        "count(*) FILTER (WHERE a.is_missing_fx_rate) AS missing_fx_rate, "
        "count(*) FILTER (WHERE a.open_amount < 0) AS credit_balances "
        "FROM unnest(?::VARCHAR[]) WITH ORDINALITY AS b(bucket, pos) "
        "LEFT JOIN a ON a.bucket = b.bucket "
        "GROUP BY b.bucket, b.pos ORDER BY b.pos",
        [*params, list(AGING_BUCKETS)],
    )


def aging_worklist(
    path: Path,
    bucket: str,
    segment: str | None = None,
    region: str | None = None,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """The collections worklist of one bucket: ar_aging's invoices of that bucket with an amount
    to collect (open > 0; a credit balance is nothing to chase), of the segment's and region's
    accounts, with the account and the last payment attempt, most overdue and largest first."""
    dims, params = account_dims("d", segment, region)
    return read(
        path,
        "SELECT a.account_id, d.account_name, a.invoice_id, a.invoice_date, a.due_date, "
        "a.days_past_due, a.currency, a.open_amount, a.open_usd, a.last_payment_attempt_at, "
        "i.last_payment_status, i.failed_attempts "
        f"FROM {relation('marts', 'ar_aging')} AS a "
        f"LEFT JOIN {relation('marts', 'fct_issued_invoices')} AS i USING (invoice_id) "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS d ON d.account_id = a.account_id "
        f"WHERE a.bucket = ? AND a.open_amount > 0 AND {dims} "
        "ORDER BY a.days_past_due DESC, a.open_usd DESC NULLS LAST, a.invoice_id LIMIT ?",
        [_bucket(bucket), *params, int(limit)],
    )


def collections_trend(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """collections_monthly (billings, collected, AR, DSO, failed payments) of the months
    start..end (None: open), oldest month first. Company-wide: the mart has no account."""
    return months_of(
        path,
        "collections_monthly",
        "month, billings_usd, collected_usd, refunded_usd, credited_usd, ar_usd, "
        "open_invoices, billings_90_days_usd, dso_days, payment_attempts, failed_payments, "
        "failed_payment_rate",
        start,
        end,
    )


def failed_payments(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """The failed payment attempts (fct_payments) made in the months start..end on receivable
    invoices — the attempts collections_monthly.failed_payments counts — of the segment's and
    region's accounts, newest first, with the invoice's open amount today."""
    dims, dim_params = account_dims("d", segment, region)
    span, span_params = period(month_start("p.attempted_at"), start, end)
    return read(
        path,
        "SELECT p.account_id, d.account_name, p.payment_id, p.invoice_id, p.attempted_at, "
        "p.failure_reason, p.currency, p.amount, p.amount_usd, i.due_date, i.open_amount, "
        "i.open_usd, i.last_payment_status "
        f"FROM {relation('marts', 'fct_payments')} AS p "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS d ON d.account_id = p.account_id "
        f"LEFT JOIN {relation('marts', 'fct_issued_invoices')} AS i "
        "ON i.invoice_id = p.invoice_id "
        f"WHERE p.status = 'failed' AND p.counts_in_receivables AND {span} AND {dims} "
        "ORDER BY p.attempted_at DESC, p.payment_id LIMIT ?",
        [*span_params, *dim_params, int(limit)],
    )


def leakage_monthly(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """billing_leakage_monthly of the months start..end, newest month first. Company-wide."""
    return months_of(
        path,
        "billing_leakage_monthly",
        "month, exceptions, missing_in_billing, unexpected_in_billing, amount_mismatch, "
        "computed_usd, expected_usd, issued_usd, leakage_usd, leakage_rate, "
        "exceptions_missing_fx_rate",
        start,
        end,
        "month DESC",
    )


def billing_exception_list(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    exception_type: str | None = None,
    segment: str | None = None,
    region: str | None = None,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """The exceptions behind the leakage of the months start..end (optionally of one type, of
    the segment's and region's accounts), largest leakage first; `difference` and `leakage` are
    in the lines' own currency."""
    if exception_type is not None and exception_type not in EXCEPTION_TYPES:
        raise NotAllowedError(f"exception type {exception_type!r} is not allowed")
    span, span_params = period("e.month", start, end)
    dims, dim_params = account_dims("d", segment, region)
    return read(
        path,
        "SELECT e.month, e.exception_type, e.account_id, d.account_name, e.subscription_id, "
        "e.charge_id, e.period_start, e.currency, e.expected_amount, e.issued_amount, "
        "e.difference, e.leakage, e.leakage_usd, e.issued_invoice_ids, e.exception_key "
        f"FROM {relation('marts', 'billing_exceptions')} AS e "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS d ON d.account_id = e.account_id "
        f"WHERE {span} AND (?::VARCHAR IS NULL OR e.exception_type = ?) AND {dims} "
        "ORDER BY e.leakage_usd DESC NULLS LAST, e.exception_key LIMIT ?",
        [*span_params, exception_type, exception_type, *dim_params, int(limit)],
    )


#: The Cash page's queries, merged into the cache's registry.
QUERIES = {
    f.__name__: f
    for f in (
        aging_summary,
        aging_worklist,
        collections_trend,
        failed_payments,
        leakage_monthly,
        billing_exception_list,
    )
}
