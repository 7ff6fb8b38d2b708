"""The Margins page's SQL (R7): cohort margin, gross margin by segment, cost to serve, vendor
spend. Same rules as `queries`: pooled read-only connections, allow-listed relations, bound
parameters, no Streamlit. Every amount is a mart column or a sum of one over the mart's rows;
the only ratio computed here (margin of a segment) is NULL when its revenue is 0.

No mart carries margin by product family (account_margin_monthly is per account, and vendor
COGS is allocated to accounts, not families), so the page shows segments and says so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from dashboards.lib.queries import read, relation


def _through(through: dt.date | None) -> tuple[str, list[Any]]:
    return ("WHERE month <= ?", [through]) if through is not None else ("", [])


def margin_totals(path: Path, through: dt.date | None = None) -> pd.DataFrame:
    """Per month: Σ revenue, COGS by kind (cost to serve) and gross margin of
    account_margin_monthly."""
    where, params = _through(through)
    return read(
        path,
        "SELECT month, sum(revenue_usd) AS revenue_usd, sum(cogs_vendor_usd) AS cogs_vendor_usd, "
        "sum(cogs_support_usd) AS cogs_support_usd, "
        "sum(cogs_implementation_usd) AS cogs_implementation_usd, sum(cogs_usd) AS cogs_usd, "
        "sum(gross_margin_usd) AS gross_margin_usd "
        f"FROM {relation('marts', 'account_margin_monthly')} {where} "
        "GROUP BY month ORDER BY month",
        params,
    )


def margin_by_segment(path: Path, through: dt.date | None = None) -> pd.DataFrame:
    """Per month and segment: Σ revenue, COGS and gross margin (account_margin_monthly); the
    segment's margin % is Σ margin / Σ revenue, NULL when revenue is 0."""
    where, params = _through(through)
    return read(
        path,
        "SELECT month, coalesce(segment, 'unknown') AS segment, "
        "sum(revenue_usd) AS revenue_usd, sum(cogs_usd) AS cogs_usd, "
        "sum(gross_margin_usd) AS gross_margin_usd, "
        "CAST(sum(gross_margin_usd) / nullif(sum(revenue_usd), 0) AS DECIMAL(18, 6)) "
        "AS gross_margin_pct, count(*) AS accounts "
        f"FROM {relation('marts', 'account_margin_monthly')} {where} "
        "GROUP BY ALL ORDER BY month, segment",
        params,
    )


def cohort_margin(path: Path) -> pd.DataFrame:
    """cohort_margin as published: cohort × months since start with gross_margin_pct as
    `value` (NULL when the cohort had no revenue that month)."""
    return read(
        path,
        "SELECT cohort_month, month, months_since_start, active_accounts, revenue_usd, cogs_usd, "
        "gross_margin_usd, gross_margin_pct, gross_margin_pct AS value "
        f"FROM {relation('marts', 'cohort_margin')} ORDER BY cohort_month, months_since_start",
    )


def cogs_reconciliation(path: Path) -> pd.DataFrame:
    """cogs_reconciliation_monthly as published, newest month first."""
    return read(
        path,
        "SELECT month, bills_cogs_usd, direct_cogs_usd, family_share_cogs_usd, "
        "total_share_cogs_usd, allocated_cogs_usd, unallocated_cogs_usd, missing_fx_bills, "
        "vendors_not_yet_billed, is_complete "
        f"FROM {relation('marts', 'cogs_reconciliation_monthly')} ORDER BY month DESC",
    )


def vendor_spend(path: Path, since: dt.date | None = None) -> pd.DataFrame:
    """Vendor spend per vendor and cost type (Σ over vendor_spend_monthly's months from `since`),
    with the bills lacking an approved PO; largest spend first."""
    where, params = ("WHERE month >= ?", [since]) if since is not None else ("", [])
    return read(
        path,
        "SELECT vendor_id, vendor_name, category, cost_type, currency, sum(bills) AS bills, "
        "sum(amount) AS amount, sum(amount_usd) AS amount_usd, "
        "sum(bills_without_approved_po) AS bills_without_approved_po, "
        "sum(amount_without_approved_po_usd) AS amount_without_approved_po_usd, "
        "sum(missing_fx_bills) AS missing_fx_bills "
        f"FROM {relation('marts', 'vendor_spend_monthly')} {where} "
        "GROUP BY ALL ORDER BY amount_usd DESC NULLS LAST, vendor_id, cost_type",
        params,
    )


def vendor_spend_months(path: Path) -> pd.DataFrame:
    """Per month and cost type: Σ vendor spend and the part without an approved PO."""
    return read(
        path,
        "SELECT month, cost_type, sum(amount_usd) AS amount_usd, "
        "sum(bills_without_approved_po) AS bills_without_approved_po, "
        "sum(amount_without_approved_po_usd) AS amount_without_approved_po_usd "
        f"FROM {relation('marts', 'vendor_spend_monthly')} GROUP BY ALL ORDER BY month, cost_type",
    )


#: The Margins page's queries, run through the cache by name (merged into `cache`'s registry).
QUERIES = {
    f.__name__: f
    for f in (
        margin_totals,
        margin_by_segment,
        cohort_margin,
        cogs_reconciliation,
        vendor_spend,
        vendor_spend_months,
    )
}
