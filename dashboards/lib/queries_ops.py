"""The Operations page's SQL (R10 onboarding, support, support-to-renewal, approvals), no
Streamlit.

Same rules as `queries`: pooled read-only connections, allow-listed relations, user values
(an approval kind, which approvals to list, the global filters' period, segment and region) only
as bound parameters and only from their allow-lists; every figure is a mart column. The one sum
is `approvals_monthly` over its two kinds (counts, additive); medians are never summed, they are
shown per kind.

Segment and region apply to the lists of implementations and tickets (their marts carry the
account, joined to dim_accounts); onboarding_monthly, support_monthly, support_renewal_risk and
the approvals are company-wide (approvals of purchase orders belong to vendors, not accounts).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboards.lib.queries import MAX_ROWS, NotAllowedError, months_of, read, relation
from dashboards.lib.query_filters import account_dims, month_start, period

#: approvals.kind values, the approvals filter's allow-list.
APPROVAL_KINDS: tuple[str, ...] = ("contract", "purchase_order")
#: Which approvals the worklist shows: still pending, or segregation-of-duties breaches.
APPROVAL_LISTS: tuple[str, ...] = ("pending", "sod_breach")


def onboarding_trend(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """onboarding_monthly of the months start..end (None: open), oldest month first."""
    return months_of(
        path,
        "onboarding_monthly",
        "month, went_live, onboarding_days_p50, backlog, overdue",
        start,
        end,
    )


def implementation_backlog(
    path: Path,
    overdue_only: bool = False,
    segment: str | None = None,
    region: str | None = None,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """Implementations neither live nor cancelled at the as-of date (of the segment's and
    region's accounts), overdue and most late first."""
    dims, params = account_dims("d", segment, region)
    return read(
        path,
        "SELECT o.implementation_id, o.account_id, d.account_name, o.status, o.is_overdue, "
        "o.signed_at, o.kickoff_date, o.target_go_live_date, o.hours_logged "
        f"FROM {relation('marts', 'onboarding')} AS o "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS d ON d.account_id = o.account_id "
        "WHERE o.status NOT IN ('live', 'cancelled') AND (NOT ? OR o.is_overdue) "
        f"AND {dims} "
        "ORDER BY o.is_overdue DESC, o.target_go_live_date NULLS LAST, o.implementation_id "
        "LIMIT ?",
        [bool(overdue_only), *params, int(limit)],
    )


def implementations_went_live(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """The implementations that went live in the months start..end (onboarding_monthly's
    went_live counts them per month, company-wide), of the segment's and region's accounts,
    latest go-live first."""
    span, span_params = period(month_start("o.go_live_date"), start, end)
    dims, dim_params = account_dims("d", segment, region)
    return read(
        path,
        "SELECT o.implementation_id, o.account_id, d.account_name, o.signed_at, o.kickoff_date, "
        "o.target_go_live_date, o.go_live_date, o.cycle_days, o.hours_logged "
        f"FROM {relation('marts', 'onboarding')} AS o "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS d ON d.account_id = o.account_id "
        f"WHERE o.go_live_date IS NOT NULL AND {span} AND {dims} "
        "ORDER BY o.go_live_date DESC, o.implementation_id LIMIT ?",
        [*span_params, *dim_params, int(limit)],
    )


def support_trend(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """support_monthly of the months start..end (None: open), oldest month first."""
    return months_of(
        path,
        "support_monthly",
        "month, tickets, first_response_hours_p50, resolution_hours_p50, sla_met_rate, "
        "csat_avg, rated_tickets, accounts_with_tickets, paying_accounts, tickets_per_account",
        start,
        end,
    )


def tickets(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    limit: int = MAX_ROWS,
) -> pd.DataFrame:
    """The tickets created in the months start..end (support_monthly's months), of the
    segment's and region's accounts, newest first: the rows behind a month's SLA, response
    times and CSAT. Reads marts.fct_tickets as published (its columns are not restated here)."""
    span, span_params = period(month_start("t.created_at"), start, end)
    dims, dim_params = account_dims("d", segment, region)
    return read(
        path,
        "SELECT d.account_name, t.* "
        f"FROM {relation('marts', 'fct_tickets')} AS t "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS d ON d.account_id = t.account_id "
        f"WHERE {span} AND {dims} ORDER BY t.created_at DESC, t.ticket_id LIMIT ?",
        [*span_params, *dim_params, int(limit)],
    )


def support_renewal(path: Path) -> pd.DataFrame:
    """support_renewal_risk, best support experience first (its a-priori rank)."""
    return read(
        path,
        "SELECT bucket, ticket_band, csat_band, account_months, accounts, churned, contracted, "
        f"churn_rate, contraction_rate FROM {relation('marts', 'support_renewal_risk')} "
        "ORDER BY bucket_rank",
    )


def approvals_trend(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """approvals_monthly per month (start..end) and kind, newest month first."""
    return months_of(
        path,
        "approvals_monthly",
        "month, kind, submitted, approved, pending_at_month_end, cycle_hours_p50, sod_breaches",
        start,
        end,
        "month DESC, kind",
    )


def approvals_totals(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """approvals_monthly's counts summed over both kinds per month (start..end), oldest
    first."""
    where, params = period("month", start, end)
    return read(
        path,
        "SELECT month, sum(submitted)::BIGINT AS submitted, sum(approved)::BIGINT AS approved, "
        "sum(pending_at_month_end)::BIGINT AS pending_at_month_end, "
        "sum(sod_breaches)::BIGINT AS sod_breaches "
        f"FROM {relation('marts', 'approvals_monthly')} WHERE {where} "
        "GROUP BY month ORDER BY month",
        params,
    )


def approval_list(
    path: Path, which: str, kind: str | None = None, limit: int = MAX_ROWS
) -> pd.DataFrame:
    """Pending approval requests (oldest first) or segregation-of-duties breaches (newest
    first), optionally of one kind."""
    if which not in APPROVAL_LISTS:
        raise NotAllowedError(f"approval list {which!r} is not one of {list(APPROVAL_LISTS)}")
    if kind is not None and kind not in APPROVAL_KINDS:
        raise NotAllowedError(f"approval kind {kind!r} is not one of {list(APPROVAL_KINDS)}")
    flag = "a.is_pending" if which == "pending" else "a.sod_breach"
    order = "a.submitted_at" if which == "pending" else "a.submitted_at DESC"
    return read(
        path,
        "SELECT a.kind, a.record_id, a.account_id, a.vendor_id, a.created_by, a.approved_by, "
        "a.submitted_at, a.approved_at, a.status, a.cycle_hours, a.currency, a.amount "
        f"FROM {relation('marts', 'approvals')} AS a "
        f"WHERE {flag} AND (?::VARCHAR IS NULL OR a.kind = ?) "
        f"ORDER BY {order}, a.approval_key LIMIT ?",
        [kind, kind, int(limit)],
    )


def approval_counts(path: Path) -> pd.DataFrame:
    """Pending requests and segregation-of-duties breaches at the as-of date (rows of
    `approvals`)."""
    return read(
        path,
        "SELECT count(*) FILTER (WHERE is_pending) AS pending, "
        "count(*) FILTER (WHERE sod_breach) AS sod_breaches, count(*) AS requests "
        f"FROM {relation('marts', 'approvals')}",
    )


#: The Operations page's queries, merged into the cache's registry.
QUERIES = {
    f.__name__: f
    for f in (
        onboarding_trend,
        implementation_backlog,
        implementations_went_live,
        support_trend,
        tickets,
        support_renewal,
        approvals_trend,
        approvals_totals,
        approval_list,
        approval_counts,
    )
}
