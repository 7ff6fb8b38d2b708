"""The Margins page's SQL (R7): gross margin and cost to serve by segment, region and product
family (gross_margin_monthly), cohort margin, vendor spend. Same rules as `queries`: pooled
read-only connections, allow-listed relations, bound parameters, no Streamlit.

gross_margin_monthly is a cube: one row per month × segment × region × product_family, each
dimension also 'all' for its total. A filter picks one value or 'all' per dimension
(`segment = coalesce(?, 'all')`), so every figure here — amounts and margin % alike — is one
row's column, never a sum across rows (which would double count). Vendor spend is summed over
vendor_spend_monthly's months (additive amounts and counts); it has no account, so only the period
applies to it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboards.lib.queries import months_of, read, relation
from dashboards.lib.query_filters import period

#: The cube's columns, in the order the page shows them.
CUBE_COLUMNS = (
    "revenue_usd, cogs_vendor_usd, cogs_support_usd, cogs_implementation_usd, cogs_usd, "
    "gross_margin_usd, gross_margin_pct, active_accounts"
)


def _cube(
    start: dt.date | None,
    end: dt.date | None,
    segment: str | None,
    region: str | None,
    family: str | None,
    by: str | None = None,
) -> tuple[str, list[object]]:
    """WHERE clause and parameters for the cube rows of the period and the filters; `by` (a
    fixed dimension name) takes every value but 'all' instead (optionally the filter's one)."""
    span, params = period("month", start, end)
    where = [span]
    for dim, value in (("segment", segment), ("region", region), ("product_family", family)):
        if dim == by:
            where.append(f"{dim} <> 'all' AND (?::VARCHAR IS NULL OR {dim} = ?)")
            params += [value, value]
        else:
            where.append(f"{dim} = coalesce(?::VARCHAR, 'all')")
            params.append(value)
    return " AND ".join(where), params


def margin_cube(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    family: str | None = None,
) -> pd.DataFrame:
    """The cube's cell of the filters (None: 'all') per month of start..end, oldest first:
    revenue, COGS by kind (cost to serve), gross margin and its %, active accounts."""
    where, params = _cube(start, end, segment, region, family)
    return read(
        path,
        f"SELECT month, {CUBE_COLUMNS} FROM {relation('marts', 'gross_margin_monthly')} "
        f"WHERE {where} ORDER BY month",
        params,
    )


def _margin_by(
    by: str,
    path: Path,
    start: dt.date | None,
    end: dt.date | None,
    segment: str | None,
    region: str | None,
    family: str | None,
) -> pd.DataFrame:
    """Per month and `by` value (the filter's value only, when set): the cube's cells of the
    other two filters."""
    where, params = _cube(start, end, segment, region, family, by=by)
    return read(
        path,
        f"SELECT month, {by}, {CUBE_COLUMNS} "
        f"FROM {relation('marts', 'gross_margin_monthly')} WHERE {where} "
        f"ORDER BY month, {by}",
        params,
    )


def margin_by_family(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    family: str | None = None,
) -> pd.DataFrame:
    """Per month and product family: the cube's cells of the segment and region filters."""
    return _margin_by("product_family", path, start, end, segment, region, family)


def margin_by_segment(
    path: Path,
    start: dt.date | None = None,
    end: dt.date | None = None,
    segment: str | None = None,
    region: str | None = None,
    family: str | None = None,
) -> pd.DataFrame:
    """Per month and segment: the cube's cells of the region and product family filters."""
    return _margin_by("segment", path, start, end, segment, region, family)


def cohort_margin(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """cohort_margin for the cohorts that started in start..end, observed up to `end`:
    cohort × months since start with gross_margin_pct as `value` (NULL when the cohort had no
    revenue that month)."""
    cohorts, cohort_params = period("cohort_month", start, end)
    through, through_params = period("month", None, end)
    return read(
        path,
        "SELECT cohort_month, month, months_since_start, active_accounts, revenue_usd, cogs_usd, "
        "gross_margin_usd, gross_margin_pct, gross_margin_pct AS value "
        f"FROM {relation('marts', 'cohort_margin')} WHERE {cohorts} AND {through} "
        "ORDER BY cohort_month, months_since_start",
        [*cohort_params, *through_params],
    )


def cogs_reconciliation(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """cogs_reconciliation_monthly of start..end as published, newest month first."""
    return months_of(
        path,
        "cogs_reconciliation_monthly",
        "month, bills_cogs_usd, direct_cogs_usd, family_share_cogs_usd, "
        "total_share_cogs_usd, allocated_cogs_usd, unallocated_cogs_usd, missing_fx_bills, "
        "vendors_not_yet_billed, is_complete",
        start,
        end,
        "month DESC",
    )


def vendor_spend(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """Vendor spend per vendor, cost type and currency summed over the months start..end, with
    the bills lacking an approved PO; largest spend first."""
    where, params = period("month", start, end)
    return read(
        path,
        "SELECT vendor_id, vendor_name, category, cost_type, currency, sum(bills) AS bills, "
        "sum(amount) AS amount, sum(amount_usd) AS amount_usd, "
        "sum(bills_without_approved_po) AS bills_without_approved_po, "
        "sum(amount_without_approved_po_usd) AS amount_without_approved_po_usd, "
        "sum(missing_fx_bills) AS missing_fx_bills "
        f"FROM {relation('marts', 'vendor_spend_monthly')} WHERE {where} "
        "GROUP BY 1, 2, 3, 4, 5 ORDER BY amount_usd DESC NULLS LAST, vendor_id, cost_type",
        params,
    )


def vendor_totals(
    path: Path, start: dt.date | None = None, end: dt.date | None = None, top: int = 15
) -> pd.DataFrame:
    """The `top` vendors by spend over the months start..end (all cost types and currencies,
    in the reporting currency), with the bills and spend lacking an approved PO."""
    where, params = period("month", start, end)
    return read(
        path,
        "SELECT vendor_id, any_value(vendor_name) AS vendor_name, sum(bills) AS bills, "
        "sum(amount_usd) AS amount_usd, "
        "sum(bills_without_approved_po) AS bills_without_approved_po, "
        "sum(amount_without_approved_po_usd) AS amount_without_approved_po_usd "
        f"FROM {relation('marts', 'vendor_spend_monthly')} WHERE {where} "
        "GROUP BY vendor_id ORDER BY amount_usd DESC NULLS LAST, vendor_id LIMIT ?",
        [*params, int(top)],
    )


def vendor_months(
    path: Path, vendor_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """One vendor's rows of vendor_spend_monthly in start..end, newest first: the bills behind
    its bar, by month, cost type and currency (no mart lists single bills)."""
    where, params = period("month", start, end)
    return read(
        path,
        "SELECT month, vendor_id, vendor_name, category, cost_type, currency, bills, amount, "
        "amount_usd, bills_without_approved_po, amount_without_approved_po_usd, missing_fx_bills "
        f"FROM {relation('marts', 'vendor_spend_monthly')} WHERE vendor_id = ? AND {where} "
        "ORDER BY month DESC, cost_type, currency",
        [vendor_id, *params],
    )


def vendor_spend_months(
    path: Path, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """Per month (start..end) and cost type: Σ vendor spend and the part without an approved
    PO."""
    where, params = period("month", start, end)
    return read(
        path,
        "SELECT month, cost_type, sum(amount_usd) AS amount_usd, "
        "sum(bills_without_approved_po) AS bills_without_approved_po, "
        "sum(amount_without_approved_po_usd) AS amount_without_approved_po_usd "
        f"FROM {relation('marts', 'vendor_spend_monthly')} WHERE {where} "
        "GROUP BY 1, 2 ORDER BY month, cost_type",
        params,
    )


#: The Margins page's queries, run through the cache by name (merged into `cache`'s registry).
QUERIES = {
    f.__name__: f
    for f in (
        margin_cube,
        margin_by_family,
        margin_by_segment,
        cohort_margin,
        cogs_reconciliation,
        vendor_spend,
        vendor_totals,
        vendor_months,
        vendor_spend_months,
    )
}
