"""The Revenue and Customers & retention pages' period- and filter-aware SQL, no Streamlit.

Same rules as `queries`: pooled read-only connections, allow-listed relations and columns,
user values (months, segment, region, product family, accounts, cohorts) only as bound
parameters. A dimension filter of None means all of it, bound as `(?::VARCHAR IS NULL OR
col = ?)` (typed: PostgreSQL must know each parameter's type) so one statement serves every
combination. Every amount is a mart column or a sum of an additive `_usd`
column over the mart's rows; ratios (gross margin %, retention) are the marts' own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboards.lib import query_filters as qf
from dashboards.lib.queries import NotAllowedError, _column, months_of, read, relation

#: ARR breakdowns (fct_mrr_by_plan_monthly columns) the Revenue page's toggle may ask for.
ARR_BREAKDOWNS: tuple[str, ...] = ("segment", "region", "product_family")
#: fct_mrr_movements.movement_type values the top-movements tables may list.
MOVEMENT_TYPES: tuple[str, ...] = ("expansion", "contraction", "churn")
#: fct_mrr_movements.movement_cause of a churn, and its mrr_bridge_monthly column (R5).
CHURN_CAUSES: dict[str, str] = {
    "cancel": "churn_cancelled_usd",
    "pause": "churn_paused_usd",
    "downgrade_to_zero": "churn_downgraded_to_zero_usd",
}
#: Cohort heatmap views: logos and MRR from cohort_retention, gross margin from cohort_margin.
COHORT_VIEWS: dict[str, tuple[str, str]] = {
    "logo": ("cohort_retention", "logo_retention"),
    "mrr": ("cohort_retention", "mrr_retention"),
    "margin": ("cohort_margin", "gross_margin_pct"),
}


def _breakdown(by: str) -> str:
    if by not in ARR_BREAKDOWNS:
        raise NotAllowedError(f"ARR breakdown {by!r} is not one of {list(ARR_BREAKDOWNS)}")
    return _column(by, ARR_BREAKDOWNS)


# --- revenue: ARR by segment / region / product family ------------------------------------------


def arr_by_dimension(
    path: Path,
    by: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    product_family: str | None = None,
) -> pd.DataFrame:
    """Per month and value of `by`: Σ arr_usd of fct_mrr_by_plan_monthly (additive), the accounts
    behind it and the rows left out for a missing FX rate, within the period and filters."""
    col = _breakdown(by)
    period, p1 = qf.period("m.month", start, end)
    dims, p2 = qf.dims("m", segment=segment, region=region, product_family=product_family)
    return read(
        path,
        f"SELECT m.month, coalesce(m.{col}, 'unknown') AS breakdown, sum(m.arr_usd) AS arr_usd, "
        "count(DISTINCT m.account_id) AS accounts, "
        "count(*) FILTER (WHERE m.is_missing_fx_rate) AS missing_fx_rows "
        f"FROM {relation('marts', 'fct_mrr_by_plan_monthly')} AS m "
        f"WHERE {period} AND {dims} GROUP BY 1, 2 ORDER BY m.month, breakdown",
        [*p1, *p2],
    )


def arr_accounts(
    path: Path,
    month: dt.date,
    by: str,
    value: str,
    segment: str | None = None,
    region: str | None = None,
    product_family: str | None = None,
) -> pd.DataFrame:
    """The accounts behind one bar of `arr_by_dimension` (a month and a value of `by`): each with
    its ARR in that slice (Σ over its plans), largest first; they add up to the bar."""
    col = _breakdown(by)
    dims, params = qf.dims("m", segment=segment, region=region, product_family=product_family)
    return read(
        path,
        "SELECT m.account_id, a.account_name, m.segment, m.region, "
        "string_agg(DISTINCT m.product_family, ', ' ORDER BY m.product_family) AS families, "
        "sum(m.arr_usd) AS arr_usd "
        f"FROM {relation('marts', 'fct_mrr_by_plan_monthly')} AS m "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS a ON a.account_id = m.account_id "
        f"WHERE m.month = ? AND coalesce(m.{col}, 'unknown') = ? AND {dims} "
        "GROUP BY 1, 2, 3, 4 ORDER BY arr_usd DESC NULLS LAST, m.account_id",
        [month, value, *params],
    )


# --- revenue: top expansions and churns --------------------------------------------------------


def top_movements(
    path: Path,
    movement_type: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    limit: int = 20,
) -> pd.DataFrame:
    """The period's movements of one type (fct_mrr_movements, one row per account, month and
    cause) with the account's name, segment and region; largest first (gains: most positive,
    losses: most negative)."""
    if movement_type not in MOVEMENT_TYPES:
        raise NotAllowedError(f"movement type {movement_type!r} is not one of {MOVEMENT_TYPES}")
    order = "DESC" if movement_type == "expansion" else "ASC"
    period, p1 = qf.period("v.month", start, end)
    dims, p2 = qf.dims("a", segment=segment, region=region)
    return read(
        path,
        "SELECT v.month, v.account_id, a.account_name, a.segment, a.region, v.movement_cause, "
        "v.currency, v.amount, v.amount_usd "
        f"FROM {relation('marts', 'fct_mrr_movements')} AS v "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS a ON a.account_id = v.account_id "
        f"WHERE v.movement_type = ? AND {period} AND {dims} "
        f"ORDER BY v.amount_usd {order} NULLS LAST, v.month DESC, v.account_id LIMIT ?",
        [movement_type, *p1, *p2, int(limit)],
    )


def movement_totals(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """One row: the period's expansion, churn and churn per cause (cancelled, paused, downgraded
    to zero), Σ of mrr_bridge_monthly's columns over its months (company-wide)."""
    period, params = qf.period("month", start, end)
    cols = CHURN_CAUSES.values()
    causes = ", ".join(f"sum({_column(c, cols)}) AS {c}" for c in cols)
    return read(
        path,
        "SELECT count(*) AS months, sum(expansion_usd) AS expansion_usd, "
        f"sum(contraction_usd) AS contraction_usd, sum(churn_usd) AS churn_usd, {causes} "
        f"FROM {relation('marts', 'mrr_bridge_monthly')} WHERE {period}",
        params,
    )


# --- revenue: revenue vs billings, and the existing sections within the period ----------------


def revenue_vs_billings(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """kpi_monthly's recognized revenue, billings and closing deferred revenue per month
    (company-wide), oldest first."""
    period, params = qf.period("month", start, end)
    return read(
        path,
        "SELECT month, revenue_usd, billings_usd, deferred_revenue_usd "
        f"FROM {relation('marts', 'kpi_monthly')} WHERE {period} ORDER BY month",
        params,
    )


def revenue_by_family_in_period(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    product_family: str | None = None,
) -> pd.DataFrame:
    """Σ recognized_usd of fct_revenue_schedule per month and product family within the period,
    the accounts' segment and region and the family filter."""
    period, p1 = qf.period("r.month", start, end)
    fam = "(?::VARCHAR IS NULL OR r.product_family = ?)"
    dims, p2 = qf.dims("a", segment=segment, region=region)
    return read(
        path,
        "SELECT r.month, r.product_family, sum(r.recognized_usd) AS recognized_usd "
        f"FROM {relation('marts', 'fct_revenue_schedule')} AS r "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS a ON a.account_id = r.account_id "
        f"WHERE {period} AND {fam} AND {dims} GROUP BY 1, 2 ORDER BY r.month, 2",
        [*p1, product_family, product_family, *p2],
    )


def invoices_in_period(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    account_id: str | None = None,
    month: dt.date | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Invoices dated within the period (or one month of it), of the filtered accounts (or one
    account), newest first."""
    period, p1 = qf.period("date_trunc('month', i.invoice_date)", start, end)
    dims, p2 = qf.dims("a", segment=segment, region=region)
    return read(
        path,
        "SELECT i.invoice_key, i.invoice_date, i.account_id, a.account_name, i.currency, "
        "i.amount, i.amount_usd, i.line_count "
        f"FROM {relation('marts', 'fct_invoices')} AS i "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS a ON a.account_id = i.account_id "
        f"WHERE {period} AND {dims} AND (?::VARCHAR IS NULL OR i.account_id = ?) "
        "AND (?::DATE IS NULL OR date_trunc('month', i.invoice_date) = ?) "
        "ORDER BY i.invoice_date DESC, i.invoice_key LIMIT ?",
        [*p1, *p2, account_id, account_id, month, month, int(limit)],
    )


def filtered_accounts(
    path: Path, segment: str | None = None, region: str | None = None
) -> pd.DataFrame:
    """Account ids and names of the segment and region (the account pickers' options)."""
    dims, params = qf.dims("a", segment=segment, region=region)
    return read(
        path,
        "SELECT a.account_id, a.account_name, a.segment, a.region, a.status "
        f"FROM {relation('marts', 'dim_accounts')} AS a WHERE {dims} "
        "ORDER BY a.account_name, a.account_id",
        params,
    )


def collections_in_period(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """collections_monthly within the period (company-wide), newest first."""
    return months_of(
        path,
        "collections_monthly",
        "*",
        start,
        end,
        "month DESC",
    )


# --- customers & retention ---------------------------------------------------------------------


def retention_in_period(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """retention_monthly within the period (company-wide), oldest first."""
    return months_of(
        path,
        "retention_monthly",
        "month, active_accounts, churned_accounts, logo_churn_rate, gross_mrr_churn_rate, "
        "net_mrr_churn_rate, nrr_t12, grr_t12",
        start,
        end,
    )


def cohort_view(path: Path, view: str = "logo", through: dt.date | None = None) -> pd.DataFrame:
    """Cohort × months since start with the view's mart column as `value` (logo or MRR
    retention from cohort_retention, gross margin % from cohort_margin), cells up to `through`."""
    if view not in COHORT_VIEWS:
        raise NotAllowedError(f"cohort view {view!r} is not one of {sorted(COHORT_VIEWS)}")
    table, col = COHORT_VIEWS[view]
    value = _column(col, [c for _, c in COHORT_VIEWS.values()])
    extra = "revenue_usd, gross_margin_usd" if table == "cohort_margin" else "mrr_usd"
    return read(
        path,
        f"SELECT cohort_month, month, months_since_start, active_accounts, {extra}, "
        f"{value} AS value FROM {relation('marts', table)} WHERE (?::DATE IS NULL OR month <= ?) "
        "ORDER BY cohort_month, months_since_start",
        [through, through],
    )


def cohort_accounts(
    path: Path, cohort: dt.date, month: dt.date, margin: bool = False
) -> pd.DataFrame:
    """The accounts behind one cohort cell: dim_accounts of that cohort_month with MRR > 0 in the
    month (fct_mrr_monthly; as many as the cell's active_accounts) and their MRR. With `margin`,
    also the cohort's accounts with an account_margin_monthly row that month (cohort_margin sums
    those) and their revenue, COGS and gross margin %."""
    accounts = relation("marts", "dim_accounts")
    mrr = relation("marts", "fct_mrr_monthly")
    if not margin:
        return read(
            path,
            "SELECT a.account_id, a.account_name, a.segment, a.region, r.mrr_usd, r.arr_usd "
            f"FROM {accounts} AS a INNER JOIN {mrr} AS r ON r.account_id = a.account_id "
            "WHERE a.cohort_month = ? AND r.month = ? AND r.mrr > 0 "
            "ORDER BY r.mrr_usd DESC NULLS LAST, a.account_id",
            [cohort, month],
        )
    return read(
        path,
        "WITH r AS (SELECT account_id, mrr_usd FROM "
        f"{mrr} WHERE month = ? AND mrr > 0), "
        "g AS (SELECT account_id, revenue_usd, cogs_usd, gross_margin_usd, gross_margin_pct "
        f"FROM {relation('marts', 'account_margin_monthly')} WHERE month = ?) "
        "SELECT a.account_id, a.account_name, a.segment, a.region, r.mrr_usd, g.revenue_usd, "
        "g.cogs_usd, g.gross_margin_usd, g.gross_margin_pct, r.account_id IS NOT NULL AS active "
        f"FROM {accounts} AS a LEFT JOIN r ON r.account_id = a.account_id "
        "LEFT JOIN g ON g.account_id = a.account_id "
        "WHERE a.cohort_month = ? AND (r.account_id IS NOT NULL OR g.account_id IS NOT NULL) "
        "ORDER BY g.revenue_usd DESC NULLS LAST, r.mrr_usd DESC NULLS LAST, a.account_id",
        [month, month, cohort],
    )


def account_margin_month(
    path: Path,
    month: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    limit: int = 20,
) -> pd.DataFrame:
    """account_margin_monthly of one month (default: its latest) for the segment and region,
    largest revenue first."""
    rel = relation("marts", "account_margin_monthly")
    dims, params = qf.dims("m", segment=segment, region=region)
    return read(
        path,
        "SELECT m.month, m.account_id, a.account_name, m.segment, m.region, m.revenue_usd, "
        "m.cogs_usd, m.gross_margin_usd, m.gross_margin_pct "
        f"FROM {rel} AS m "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS a ON a.account_id = m.account_id "
        f"WHERE m.month = coalesce(?, (SELECT max(month) FROM {rel})) AND {dims} "
        "ORDER BY m.revenue_usd DESC NULLS LAST, m.account_id LIMIT ?",
        [month, *params, int(limit)],
    )


#: The Revenue and Customers pages' queries, merged into the cache's registry.
QUERIES = {
    f.__name__: f
    for f in (
        arr_by_dimension,
        arr_accounts,
        top_movements,
        movement_totals,
        revenue_vs_billings,
        revenue_by_family_in_period,
        invoices_in_period,
        filtered_accounts,
        collections_in_period,
        retention_in_period,
        cohort_view,
        cohort_accounts,
        account_margin_month,
    )
}
