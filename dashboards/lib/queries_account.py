"""The Account 360 page's SQL: one account's header, MRR history and movements, subscriptions,
invoices and payments, tickets, implementation and margin, no Streamlit.

Same rules as `queries`: pooled read-only connections, allow-listed relations, and the
account id (which arrives from the URL) only ever as a bound parameter — the page also checks it
against `account_options` before asking, so an unknown id never runs a query at all. Every figure
is a mart column; the one sum is `open_usd` over the account's invoices (additive, reporting
currency). `start`/`end` (first days of months, inclusive; None = unbounded) are the global
filters' period, applied to the monthly sections only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboards.lib.queries import MAX_ROWS, read, relation
from dashboards.lib.query_filters import period


def account_options(path: Path) -> pd.DataFrame:
    """Every account of dim_accounts (deleted ones flagged), by name: the picker's options and
    the allow-list an account id from the URL is checked against."""
    return read(
        path,
        "SELECT account_id, account_name, coalesce(is_deleted, false) AS is_deleted "
        f"FROM {relation('marts', 'dim_accounts')} ORDER BY account_name NULLS LAST, account_id",
    )


def account_header(path: Path, account_id: str) -> pd.DataFrame:
    """One row: dim_accounts' attributes and current MRR, the parent's name, and ARR of the
    as-of month (fct_mrr_monthly's latest month; NULL when the account has no row there)."""
    mrr = relation("marts", "fct_mrr_monthly")
    return read(
        path,
        "SELECT a.account_id, a.account_name, a.segment, a.industry, a.region, a.country, "
        "a.currency, a.status, a.cohort_month, a.parent_account_id, "
        "p.account_name AS parent_account_name, a.current_mrr, a.current_mrr_usd, "
        "m.month AS mrr_month, m.mrr_usd, m.arr_usd, m.is_missing_fx_rate, a.created_at, "
        "a.is_deleted "
        f"FROM {relation('marts', 'dim_accounts')} AS a "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS p "
        "ON p.account_id = a.parent_account_id "
        f"LEFT JOIN {mrr} AS m ON m.account_id = a.account_id "
        f"AND m.month = (SELECT max(month) FROM {mrr}) "
        "WHERE a.account_id = ?",
        [account_id],
    )


def mrr_history(
    path: Path, account_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """fct_mrr_monthly of the account within the period, oldest month first."""
    clause, params = period("month", start, end)
    return read(
        path,
        "SELECT month, currency, mrr, mrr_usd, arr_usd, is_missing_fx_rate "
        f"FROM {relation('marts', 'fct_mrr_monthly')} "
        f"WHERE account_id = ? AND {clause} ORDER BY month",
        [account_id, *params],
    )


def mrr_movements(
    path: Path, account_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """fct_mrr_movements of the account within the period (type and cause), newest first."""
    clause, params = period("month", start, end)
    return read(
        path,
        "SELECT month, movement_type, movement_cause, currency, amount, amount_usd "
        f"FROM {relation('marts', 'fct_mrr_movements')} "
        f"WHERE account_id = ? AND {clause} "
        "ORDER BY month DESC, movement_type, movement_cause",
        [account_id, *params],
    )


def subscription_segments(path: Path, account_id: str) -> pd.DataFrame:
    """fct_subscription_segments of the account with the plan's name from dim_plans; open
    segments first, then newest."""
    return read(
        path,
        "SELECT s.subscription_id, s.plan_id, p.product_name, s.product_family, s.charge_type, "
        "s.valid_from, s.valid_to, s.status, s.quantity, s.unit_price, s.billing_period_months, "
        "s.currency, s.mrr, s.contract_id "
        f"FROM {relation('marts', 'fct_subscription_segments')} AS s "
        f"LEFT JOIN {relation('marts', 'dim_plans')} AS p ON p.plan_id = s.plan_id "
        "WHERE s.account_id = ? "
        "ORDER BY s.valid_to IS NOT NULL, s.valid_from DESC, s.subscription_id LIMIT ?",
        [account_id, MAX_ROWS],
    )


def account_invoices(path: Path, account_id: str, limit: int = MAX_ROWS) -> pd.DataFrame:
    """fct_issued_invoices of the account, newest first; days past due only where a balance is
    open (the mart carries it for every invoice)."""
    return read(
        path,
        "SELECT invoice_id, invoice_date, due_date, status, currency, total, paid_amount, "
        "refunded_amount, credited_amount, open_amount, open_usd, "
        "CASE WHEN open_amount <> 0 THEN days_past_due END AS days_past_due, "
        "payment_attempts, failed_attempts, last_payment_attempt_at, last_payment_status, "
        "is_void, is_missing_fx_rate "
        f"FROM {relation('marts', 'fct_issued_invoices')} WHERE account_id = ? "
        "ORDER BY invoice_date DESC, invoice_id DESC LIMIT ?",
        [account_id, int(limit)],
    )


def invoice_totals(path: Path, account_id: str) -> pd.DataFrame:
    """One row: the account's open balance in the reporting currency (Σ fct_issued_invoices
    open_usd), of it past due, open invoices, and open invoices without an FX rate (left out)."""
    return read(
        path,
        "SELECT count(*) AS invoices, count(*) FILTER (WHERE open_amount <> 0) AS open_invoices, "
        "coalesce(sum(open_usd), 0)::DECIMAL(18, 2) AS open_usd, "
        "coalesce(sum(open_usd) FILTER (WHERE days_past_due > 0), 0)::DECIMAL(18, 2) "
        "AS past_due_usd, "
        "count(*) FILTER (WHERE open_amount <> 0 AND open_usd IS NULL) AS open_missing_fx_rate "
        f"FROM {relation('marts', 'fct_issued_invoices')} WHERE account_id = ?",
        [account_id],
    )


def account_payments(
    path: Path, account_id: str, invoice_id: str | None = None, limit: int = MAX_ROWS
) -> pd.DataFrame:
    """fct_payments of the account (optionally of one of its invoices), latest first."""
    return read(
        path,
        "SELECT payment_id, invoice_id, attempted_at, status, currency, amount, amount_usd, "
        "failure_reason, counts_in_receivables, is_missing_fx_rate "
        f"FROM {relation('marts', 'fct_payments')} "
        "WHERE account_id = ? AND (?::VARCHAR IS NULL OR invoice_id = ?) "
        "ORDER BY attempted_at DESC, payment_id DESC LIMIT ?",
        [account_id, invoice_id, invoice_id, int(limit)],
    )


def account_tickets(
    path: Path,
    account_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """fct_tickets of the account created within the period, newest first."""
    clause, params = period("created_month", start, end)
    return read(
        path,
        "SELECT ticket_id, created_at, priority, category, status, first_response_hours, "
        "resolution_hours, sla_target_hours, sla_met, csat_score, handle_minutes "
        f"FROM {relation('marts', 'fct_tickets')} WHERE account_id = ? AND {clause} "
        "ORDER BY created_at DESC, ticket_id DESC LIMIT ?",
        [account_id, *params, int(limit)],
    )


def account_implementations(path: Path, account_id: str) -> pd.DataFrame:
    """onboarding rows of the account (overdue flagged as on the Operations page), open and
    overdue first."""
    return read(
        path,
        "SELECT implementation_id, status, is_overdue, contract_id, signed_at, kickoff_date, "
        "target_go_live_date, go_live_date, cycle_days, hours_logged "
        f"FROM {relation('marts', 'onboarding')} WHERE account_id = ? "
        "ORDER BY status IN ('live', 'cancelled'), is_overdue DESC, "
        "target_go_live_date NULLS LAST, implementation_id",
        [account_id],
    )


def account_margin_months(
    path: Path, account_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """account_margin_monthly of the account within the period, newest month first."""
    clause, params = period("month", start, end)
    return read(
        path,
        "SELECT month, revenue_usd, cogs_vendor_usd, cogs_support_usd, cogs_implementation_usd, "
        "cogs_usd, gross_margin_usd, gross_margin_pct, revenue_missing_fx_rows "
        f"FROM {relation('marts', 'account_margin_monthly')} "
        f"WHERE account_id = ? AND {clause} ORDER BY month DESC",
        [account_id, *params],
    )


#: The Account 360 page's queries, merged into the cache's registry.
QUERIES = {
    f.__name__: f
    for f in (
        account_options,
        account_header,
        mrr_history,
        mrr_movements,
        subscription_segments,
        account_invoices,
        invoice_totals,
        account_payments,
        account_tickets,
        account_implementations,
        account_margin_months,
    )
}
