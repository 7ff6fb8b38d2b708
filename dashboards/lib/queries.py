"""Every SQL statement the dashboards run, as plain functions returning pandas DataFrames.

No Streamlit here, so each query is unit-testable against a small warehouse file. Rules kept:
* the warehouse is opened only through `connect_readonly` (one pooled connection per build
  file, a fresh cursor per call), results read fully (Arrow → pandas, so DECIMAL money stays
  `decimal.Decimal`) before the cursor closes;
* user values are bound parameters (`?`); schema, table and column names come from allow-lists
  (`ALLOWED_TABLES`, `COHORT_METRICS`, `KPI_COLUMNS`) and are quoted;
* the audit and quarantine tables are read with the columns `pipelines/warehouse/schema.py` defines
  (the same code writes them), so a renamed column fails a test instead of being guessed around;
* only `marts`, `audit` and `quarantine` are read, and no metric is computed beyond what the
  marts hold (sums of additive mart columns for breakdowns are the exception); the KPI tiles
  come straight from `marts.kpi_monthly`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dashboards.lib.query_filters import period
from dashboards.lib.served import ServedConnection, ServedMarts, ServedParquet
from pipelines.warehouse.readonly import connect_readonly

#: The v1 public marts of docs/warehouse.md.
V1_MARTS: tuple[str, ...] = (
    "dim_accounts",
    "dim_plans",
    "fct_subscription_segments",
    "fct_invoice_lines",
    "fct_invoices",
    "fct_revenue_schedule",
    "deferred_revenue_monthly",
    "fct_mrr_monthly",
    "fct_mrr_by_plan_monthly",
    "fct_mrr_movements",
    "mrr_bridge_monthly",
    "retention_monthly",
    "cohort_retention",
)
#: The R7–R10 marts (cost, cash, leakage, operations) and the KPI table over all of them.
OPS_MARTS: tuple[str, ...] = (
    "account_margin_monthly",
    "cohort_margin",
    "cogs_reconciliation_monthly",
    "vendor_spend_monthly",
    "fct_issued_invoices",
    "ar_aging",
    "collections_monthly",
    "billing_exceptions",
    "billing_leakage_monthly",
    "onboarding",
    "onboarding_monthly",
    "support_monthly",
    "support_renewal_risk",
    "approvals",
    "approvals_monthly",
    "bookings_monthly",
    "quote_to_cash",
    "kpi_monthly",
    "gross_margin_monthly",
    "fct_payments",
    "fct_tickets",
)
#: Data-quality marts: what the totals leave out and why.
QUALITY_MARTS: tuple[str, ...] = ("excluded_facts",)
#: Billing anomalies, exception triage and vendor cost suggestions (issue 15, dbt, rules A1–A6).
RISK_MARTS: tuple[str, ...] = (
    "billing_anomalies",
    "exception_triage",
    "exception_causes_monthly",
    "vendor_cost_suggestions",
)
#: Every public mart (v1, then later issues); anything else is refused.
MARTS: tuple[str, ...] = V1_MARTS + OPS_MARTS + QUALITY_MARTS + RISK_MARTS
#: Marts written by a model step, not dbt (renewal risk); a page checks `ui.has` before reading.
MODEL_MARTS: tuple[str, ...] = ("account_health",)
ALLOWED_TABLES: dict[str, frozenset[str]] = {
    "marts": frozenset(MARTS + MODEL_MARTS),
    "audit": frozenset({"build_info", "runs", "load_log", "check_results", "reference_breaches"}),
    "quarantine": frozenset({"rows", "files"}),
}

#: Cohort heatmap metrics (cohort_retention columns) the page may ask for.
COHORT_METRICS: dict[str, str] = {"logo": "logo_retention", "mrr": "mrr_retention"}

#: R8's aging buckets, in display order.
AGING_BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "over_90")

MAX_ROWS = 5000


class NotAllowedError(ValueError):
    """A schema, table or column name outside the allow-lists (never interpolated into SQL)."""


def relation(schema: str, table: str) -> str:
    """Quoted `schema.table` for an allow-listed relation, else `NotAllowedError`."""
    if table not in ALLOWED_TABLES.get(schema, frozenset()):
        raise NotAllowedError(f"{schema}.{table} is not a relation the dashboards may read")
    return f'"{schema}"."{table}"'


def _column(name: str, allowed: Iterable[str]) -> str:
    """Quoted column name if it is in `allowed`, else `NotAllowedError`."""
    if name not in set(allowed):
        raise NotAllowedError(f"column {name!r} is not in the allow-list")
    return f'"{name}"'


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run one statement and read it fully; DECIMAL stays Decimal, DATE stays date. On a
    server target's connection (`served.ServedConnection`) the statement goes where it reads."""
    if isinstance(con, ServedConnection):
        return con.fetch(sql, params)
    return con.sql(sql, params=list(params)).to_arrow_table().to_pandas()


#: Open read-only connections by (build file, mtime): opening one costs ~20 ms, a cursor on it
#: under 1 ms, and a page runs ten queries. A published build is a new file, so it gets its own.
_POOL: dict[tuple[str, int, str], duckdb.DuckDBPyConnection] = {}
_POOL_LOCK = threading.Lock()
_POOL_KEEP = 3


def _shared(path: Path | ServedParquet) -> duckdb.DuckDBPyConnection:
    """The pooled read-only connection of this build file (opened on first use); for a Spark
    target's served run, the in-memory connection over its files (`ServedParquet.connect`)."""
    spark = isinstance(path, ServedParquet)
    file = path.build_file if spark else path
    served_run = f"{path.folder}:{path.run_tag}" if spark else ""
    key = (str(file), file.stat().st_mtime_ns if file.exists() else 0, served_run)
    with _POOL_LOCK:
        con = _POOL.get(key)
        if con is None:
            if spark:
                from pipelines.settings import get_settings

                con = path.connect(get_settings().sql_memory_limit)
            else:
                con = connect_readonly(path)
            _POOL[key] = con
            while len(_POOL) > _POOL_KEEP:  # older builds: nobody reads them any more
                _POOL.pop(next(iter(_POOL))).close()
        return con


def release() -> None:
    """Close every pooled connection (tests that rewrite a warehouse file call this first)."""
    with _POOL_LOCK:
        while _POOL:
            _POOL.popitem()[1].close()


@contextmanager
def connection(path: Path | ServedMarts | ServedParquet) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the build's pooled read-only connection for a batch of statements, closed
    after. Cursors are per thread, so concurrent sessions never share one; statements use
    qualified `schema.table` names (a cursor starts without the connection's search path).
    `ServedMarts` (the marts served by a server target): a read-only connection there, beside
    the published file's cursor for the audit trail; `ServedParquet` (a Spark target's served
    run): an in-memory DuckDB over its files and the published file (dashboards/lib/served.py)."""
    if isinstance(path, ServedMarts):
        with (
            closing(_shared(path.build_file).cursor()) as cur,
            closing(ServedConnection(path.read_connection(), cur)) as served,
        ):
            yield served  # type: ignore[misc]
        return
    with closing(_shared(path if isinstance(path, ServedParquet) else Path(path)).cursor()) as cur:
        yield cur


def read(path: Path, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """One statement on its own cursor."""
    with connection(path) as con:
        return fetch(con, sql, params)


# --- catalogue ---------------------------------------------------------------------------------


def months_of(
    path: Path,
    mart: str,
    columns: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    order: str = "month",
) -> pd.DataFrame:
    """A company-wide monthly mart's `columns` for the months start..end (None: open), in
    `order`. `columns` and `order` are fixed text of the calling query, never user values; the
    mart is checked against the allow-list and the months are bound."""
    where, params = period("month", start, end)
    return read(
        path,
        f"SELECT {columns} FROM {relation('marts', mart)} WHERE {where} ORDER BY {order}",
        params,
    )


def _existing(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return fetch(
        con,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema IN (?, ?, ?) "
        "ORDER BY 1, 2",
        list(ALLOWED_TABLES),
    )


def _built_marts(con: duckdb.DuckDBPyConnection) -> set[str]:
    df = _existing(con)
    return set(df.loc[df["table_schema"] == "marts", "table_name"])


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pd.DataFrame:
    relation(schema, table)
    return fetch(
        con,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, table],
    )


def existing_tables(path: Path) -> pd.DataFrame:
    """(table_schema, table_name) of the readable schemas, so pages can say "not built yet"."""
    with connection(path) as con:
        return _existing(con)


def table_columns(path: Path, schema: str, table: str) -> pd.DataFrame:
    """Column names and types of one allow-listed relation (empty when it does not exist)."""
    with connection(path) as con:
        return _columns(con, schema, table)


def mart_coverage(path: Path) -> pd.DataFrame:
    """Every mart of docs/warehouse.md with whether this build has it (the data-quality page)."""
    with connection(path) as con:
        built = _built_marts(con)
    return pd.DataFrame(
        {
            "mart": list(MARTS),
            "built": [m in built for m in MARTS],
            "rules": [
                "R7–R10"
                if m in OPS_MARTS
                else "data quality"
                if m in QUALITY_MARTS
                else "A1–A6"
                if m in RISK_MARTS
                else "R1–R6"
                for m in MARTS
            ],
        }
    )


def filter_options(path: Path) -> pd.DataFrame:
    """The global filters' allow-lists: (kind, value) rows — `month` (kpi_monthly's months),
    `segment`, `region` (dim_accounts) and `product_family` (dim_plans), each sorted; a kind
    whose mart is not built has no rows."""
    with connection(path) as con:
        built = _built_marts(con)
        parts = []
        if "kpi_monthly" in built:
            parts.append(
                "SELECT 'month' AS kind, CAST(month AS VARCHAR) AS value "
                f"FROM {relation('marts', 'kpi_monthly')}"
            )
        if "dim_accounts" in built:
            for col in ("segment", "region"):
                parts.append(
                    f"SELECT DISTINCT '{col}' AS kind, {col} AS value "
                    f"FROM {relation('marts', 'dim_accounts')} "
                    f"WHERE {col} IS NOT NULL"
                )
        if "dim_plans" in built:
            parts.append(
                "SELECT DISTINCT 'product_family' AS kind, product_family AS value "
                f"FROM {relation('marts', 'dim_plans')} WHERE product_family IS NOT NULL"
            )
        if not parts:
            return pd.DataFrame({"kind": [], "value": []})
        return fetch(con, " UNION ALL ".join(parts) + " ORDER BY 1, 2")


# --- audit ---------------------------------------------------------------------------------


def build_info(path: Path) -> pd.DataFrame:
    """The run that made this file (audit.build_info) with its audit.runs row: as-of date,
    reporting currency, build time, warehouse version. One row; none in a file without it."""
    return read(
        path,
        "SELECT b.run_id, b.as_of_date, b.reporting_currency, b.full_refresh, "
        "coalesce(r.started_at, b.started_at) AS started_at, r.finished_at, r.status, "
        "r.warehouse_version, r.checks_passed, r.checks_failed "
        f"FROM {relation('audit', 'build_info')} AS b "
        f"LEFT JOIN {relation('audit', 'runs')} AS r USING (run_id)",
    )


def reporting_currency(path: Path) -> str | None:
    """The ISO code every `_usd` column of this build is in (None when the file does not say)."""
    df = build_info(path)
    return None if df.empty else df.iloc[0]["reporting_currency"]


def runs_history(path: Path, limit: int = 50) -> pd.DataFrame:
    """The builds this file descends from (each published), newest first."""
    return read(
        path,
        "SELECT run_id, status, warehouse_version, as_of_date, started_at, finished_at, "
        "full_refresh, files_loaded, rows_loaded, rows_quarantined, checks_passed, checks_failed "
        f"FROM {relation('audit', 'runs')} ORDER BY finished_at DESC NULLS LAST, run_id LIMIT ?",
        [int(limit)],
    )


def load_log(path: Path, run_id: str | None = None, limit: int = MAX_ROWS) -> pd.DataFrame:
    """One row per extract file loaded (optionally for one run), newest first."""
    where, params = ("WHERE run_id = ?", [run_id]) if run_id is not None else ("", [])
    return read(
        path,
        'SELECT run_id, source, "table", file, extract_id, status, rows_read, rows_loaded, '
        "rows_quarantined, rows_superseded, loaded_at "
        f"FROM {relation('audit', 'load_log')} {where} "
        'ORDER BY loaded_at DESC NULLS LAST, source, "table", file LIMIT ?',
        [*params, int(limit)],
    )


def load_summary(path: Path) -> pd.DataFrame:
    """Files and rows read/loaded/quarantined per run (newest first): the load's health."""
    return read(
        path,
        "SELECT run_id, count(*) AS files, sum(rows_read) AS rows_read, "
        "sum(rows_loaded) AS rows_loaded, sum(rows_quarantined) AS rows_quarantined, "
        f"max(loaded_at) AS loaded_at FROM {relation('audit', 'load_log')} "
        "GROUP BY run_id ORDER BY loaded_at DESC NULLS LAST, run_id",
    )


def quarantine_reasons(path: Path) -> pd.DataFrame:
    """Rejected rows counted by reason code, source and table, most frequent first."""
    return read(
        path,
        'SELECT reason_code AS reason, source, "table", count(*) AS rows '
        f"FROM {relation('quarantine', 'rows')} GROUP BY ALL ORDER BY rows DESC, 1, 2, 3",
    )


def quarantine_sample(path: Path, reason: str | None = None, limit: int = 50) -> pd.DataFrame:
    """A sample of rejected rows with their raw record, optionally of one reason code."""
    where, params = ("WHERE reason_code = ?", [reason]) if reason is not None else ("", [])
    return read(
        path,
        'SELECT reason_code, source, "table", file, row_number, "column", reason, raw_record, '
        f"run_id, quarantined_at FROM {relation('quarantine', 'rows')} {where} "
        "ORDER BY quarantined_at DESC NULLS LAST, file, row_number LIMIT ?",
        [*params, int(limit)],
    )


def quarantine_files(path: Path, limit: int = 200) -> pd.DataFrame:
    """Whole files the loader rejected (missing column, unreadable), newest first."""
    return read(
        path,
        'SELECT reason_code, source, "table", file, extract_id, rows_read, reason, run_id, '
        f"quarantined_at FROM {relation('quarantine', 'files')} "
        "ORDER BY quarantined_at DESC NULLS LAST, file LIMIT ?",
        [int(limit)],
    )


#: An extract older than this many days before the build's as-of date is flagged as stale.
STALE_AFTER_DAYS = 2


def source_freshness(path: Path) -> pd.DataFrame:
    """Per source and table: the latest extract loaded (live rows of audit.load_log: neither
    superseded nor rejected), its date and its age in days at the build's as-of date; `stale`
    when older than STALE_AFTER_DAYS. Stalest first."""
    return read(
        path,
        'WITH live AS (SELECT source, "table", max(extract_id) AS latest_extract_id, '
        "count(*) AS files, max(loaded_at) AS loaded_at "
        f"FROM {relation('audit', 'load_log')} "
        "WHERE status IS DISTINCT FROM 'superseded' AND status IS DISTINCT FROM 'rejected' "
        "GROUP BY ALL) "
        'SELECT l.source, l."table", l.latest_extract_id, '
        "try_cast(left(l.latest_extract_id, 10) AS DATE) AS extract_date, "
        "b.as_of_date, b.as_of_date - try_cast(left(l.latest_extract_id, 10) AS DATE) AS age_days, "
        "coalesce(b.as_of_date - try_cast(left(l.latest_extract_id, 10) AS DATE) > ?, true) "
        "AS stale, l.files, l.loaded_at "
        f"FROM live AS l CROSS JOIN (SELECT max(as_of_date) AS as_of_date "
        f"FROM {relation('audit', 'build_info')}) AS b "
        'ORDER BY age_days DESC NULLS FIRST, l.source, l."table"',
        [STALE_AFTER_DAYS],
    )


def quarantine_top_reasons(path: Path, top: int = 3) -> pd.DataFrame:
    """Per source and table, its `top` reasons for rejection: rows (quarantine.rows) and whole
    files (quarantine.files, with the rows they held), most rows first."""
    return read(
        path,
        'WITH r AS (SELECT source, "table", reason_code, count(*) AS rows_rejected, '
        f"0 AS files_rejected FROM {relation('quarantine', 'rows')} GROUP BY ALL "
        'UNION ALL SELECT source, "table", reason_code, coalesce(sum(rows_read), 0), count(*) '
        f"FROM {relation('quarantine', 'files')} GROUP BY ALL), "
        'a AS (SELECT source, "table", reason_code, sum(rows_rejected) AS rows_rejected, '
        "sum(files_rejected) AS files_rejected FROM r GROUP BY ALL), "
        'k AS (SELECT *, row_number() OVER (PARTITION BY source, "table" '
        "ORDER BY rows_rejected DESC, files_rejected DESC, reason_code) AS rank FROM a) "
        'SELECT source, "table", rank, reason_code, rows_rejected, files_rejected FROM k '
        'WHERE rank <= ? ORDER BY source, "table", rank',
        [int(top)],
    )


def check_results(path: Path, run_id: str | None = None) -> pd.DataFrame:
    """The build's checks (optionally of one run), failures and blocking checks first."""
    where, params = ("WHERE run_id = ?", [run_id]) if run_id is not None else ("", [])
    return read(
        path,
        "SELECT run_id, asset, check_name, passed, blocking, description, checked_at "
        f"FROM {relation('audit', 'check_results')} {where} "
        "ORDER BY passed, blocking DESC, asset, check_name LIMIT ?",
        [*params, MAX_ROWS],
    )


# --- overview ----------------------------------------------------------------------------------

#: kpi_monthly columns the Overview shows (the mart may carry more).
KPI_COLUMNS: tuple[str, ...] = (
    "month",
    "mrr_usd",
    "arr_usd",
    "net_new_mrr_usd",
    "nrr_t12",
    "grr_t12",
    "logo_churn_rate",
    "revenue_usd",
    "gross_margin_pct",
    "cogs_is_complete",
    "deferred_revenue_usd",
    "ar_usd",
    "dso_days",
    "bookings_usd",
    "billing_leakage_usd",
    "collected_usd",
    "active_accounts",
    "failed_payment_rate",
)


def _through(through: dt.date | None) -> tuple[str, list[Any]]:
    """`WHERE month <= ?` when a last month is given (schedules run past the as-of date)."""
    return ("WHERE month <= ?", [through]) if through is not None else ("", [])


def kpis_by_month(path: Path, through: dt.date | None = None) -> pd.DataFrame:
    """The executive tiles: marts.kpi_monthly as published, one row per month up to `through`.

    Every KPI is a column of the mart (computed and tied out in dbt); nothing is derived here.
    """
    cols = ", ".join(_column(c, KPI_COLUMNS) for c in KPI_COLUMNS)
    where, params = _through(through)
    return read(
        path,
        f"SELECT {cols} FROM {relation('marts', 'kpi_monthly')} {where} ORDER BY month",
        params,
    )


def mrr_bridge(path: Path) -> pd.DataFrame:
    """mrr_bridge_monthly as published, oldest month first."""
    return read(path, f"SELECT * FROM {relation('marts', 'mrr_bridge_monthly')} ORDER BY month")


# --- revenue -----------------------------------------------------------------------------------


#: Hook for the waterfall's FX line (dbt side: the deferred revenue mart). The waterfall converts
#: each line at its invoice-date rate, revenue (kpi_monthly.revenue_usd, fct_revenue_schedule) at
#: the month-end rate; with this column the two tie:
#:     recognized_usd (invoice-date rates) + <this column> = revenue_usd (month-end rates).
#: Read from marts.deferred_revenue_monthly when the build has it, else left out. Rename here if
#: the mart names it otherwise.
WATERFALL_FX_DIFFERENCE_COLUMN = "fx_translation_usd"
#: deferred_revenue_monthly columns the Revenue page shows, in order.
WATERFALL_COLUMNS: tuple[str, ...] = (
    "month",
    "opening_usd",
    "billings_usd",
    "recognized_usd",
    "unbilled_change_usd",
    "closing_usd",
    "unbilled_usd",
)


def deferred_rollforward(path: Path) -> pd.DataFrame:
    """deferred_revenue_monthly (R4, invoice-date rates): opening + billings − recognized +
    unbilled change = closing, with the FX difference to revenue when the mart has it."""
    rel = relation("marts", "deferred_revenue_monthly")
    with connection(path) as con:
        present = set(_columns(con, "marts", "deferred_revenue_monthly")["column_name"])
        allowed = (*WATERFALL_COLUMNS, WATERFALL_FX_DIFFERENCE_COLUMN)
        cols = [*WATERFALL_COLUMNS, *(c for c in allowed[len(WATERFALL_COLUMNS) :] if c in present)]
        select = ", ".join(_column(c, allowed) for c in cols)
        return fetch(con, f"SELECT {select} FROM {rel} ORDER BY month")


def invoice_months(path: Path) -> pd.DataFrame:
    """Months that have invoices, newest first (the invoice filter's options)."""
    return read(
        path,
        "SELECT DISTINCT CAST(date_trunc('month', invoice_date) AS DATE) AS month "
        f"FROM {relation('marts', 'fct_invoices')} ORDER BY month DESC",
    )


def accounts(path: Path) -> pd.DataFrame:
    """Account ids and names (filter options), by name."""
    return read(
        path,
        "SELECT account_id, account_name, segment, region, status "
        f"FROM {relation('marts', 'dim_accounts')} ORDER BY account_name, account_id",
    )


def invoices(
    path: Path,
    account_id: str | None = None,
    month: dt.date | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Invoices newest first, filtered by account and invoice month (both bound parameters)."""
    where, params = [], []
    if account_id is not None:
        where.append("i.account_id = ?")
        params.append(account_id)
    if month is not None:
        where.append("date_trunc('month', i.invoice_date) = ?")
        params.append(month)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return read(
        path,
        "SELECT i.invoice_key, i.invoice_date, i.account_id, a.account_name, i.currency, "
        "i.amount, i.amount_usd, i.line_count "
        f"FROM {relation('marts', 'fct_invoices')} AS i "
        f"LEFT JOIN {relation('marts', 'dim_accounts')} AS a USING (account_id) "
        f"{clause} ORDER BY i.invoice_date DESC, i.invoice_key LIMIT ?",
        [*params, int(limit)],
    )


def invoice_lines(path: Path, invoice_key: str) -> pd.DataFrame:
    """The lines of one invoice (drill-down)."""
    return read(
        path,
        "SELECT invoice_line_key, line_type, plan_id, service_start, service_end, quantity, "
        f"amount, currency, amount_usd FROM {relation('marts', 'fct_invoice_lines')} "
        "WHERE invoice_key = ? ORDER BY invoice_line_key",
        [invoice_key],
    )


def ar_aging_buckets(path: Path) -> pd.DataFrame:
    """Open receivables per aging bucket (later issue: ar_aging)."""
    return read(
        path,
        "SELECT bucket, count(*) AS invoices, sum(open_usd) AS open_usd "
        f"FROM {relation('marts', 'ar_aging')} GROUP BY bucket "
        "ORDER BY coalesce(list_position(?::VARCHAR[], bucket), 99), bucket",
        [list(AGING_BUCKETS)],
    )


# --- customers & retention ---------------------------------------------------------------------


def cohort_retention(path: Path, metric: str = "logo") -> pd.DataFrame:
    """cohort × months since start with the chosen retention column as `value`."""
    if metric not in COHORT_METRICS:
        raise NotAllowedError(f"cohort metric {metric!r} is not one of {sorted(COHORT_METRICS)}")
    col = _column(COHORT_METRICS[metric], COHORT_METRICS.values())
    return read(
        path,
        f"SELECT cohort_month, months_since_start, active_accounts, mrr_usd, {col} AS value "
        f"FROM {relation('marts', 'cohort_retention')} ORDER BY cohort_month, months_since_start",
    )


def _account_filters(
    segments: Sequence[str] | None, regions: Sequence[str] | None, include_deleted: bool
) -> tuple[str, list[Any]]:
    where: list[str] = [] if include_deleted else ["NOT coalesce(is_deleted, false)"]
    params: list[Any] = []
    if segments:
        where.append("list_contains(?::VARCHAR[], segment)")
        params.append(list(segments))
    if regions:
        where.append("list_contains(?::VARCHAR[], region)")
        params.append(list(regions))
    return (f"WHERE {' AND '.join(where)}" if where else ""), params


def top_accounts(
    path: Path,
    segments: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    limit: int = 20,
    include_deleted: bool = False,
) -> pd.DataFrame:
    """Accounts by current MRR (dim_accounts), largest first, within the chosen segments/regions."""
    clause, params = _account_filters(segments, regions, include_deleted)
    return read(
        path,
        "SELECT account_id, account_name, segment, region, country, currency, cohort_month, "
        f"status, current_mrr_usd FROM {relation('marts', 'dim_accounts')} {clause} "
        "ORDER BY current_mrr_usd DESC NULLS LAST, account_name LIMIT ?",
        [*params, int(limit)],
    )


def mrr_by_segment(
    path: Path, segments: Sequence[str] | None = None, regions: Sequence[str] | None = None
) -> pd.DataFrame:
    """Current MRR and account counts per segment and region (dim_accounts)."""
    clause, params = _account_filters(segments, regions, include_deleted=False)
    return read(
        path,
        "SELECT segment, region, count(*) FILTER (WHERE status = 'active') AS active_accounts, "
        f"sum(current_mrr_usd) AS current_mrr_usd FROM {relation('marts', 'dim_accounts')} "
        f"{clause} GROUP BY 1, 2 ORDER BY current_mrr_usd DESC NULLS LAST",
        params,
    )


# --- data quality ------------------------------------------------------------------------------


def billing_exception_summary(path: Path) -> pd.DataFrame:
    """Billing exceptions per type with their leakage in the reporting currency (R9).

    `difference` is in each line's own currency and is not summed across currencies."""
    return read(
        path,
        "SELECT exception_type, count(*) AS exceptions, sum(leakage_usd) AS leakage_usd "
        f"FROM {relation('marts', 'billing_exceptions')} "
        "GROUP BY 1 ORDER BY exceptions DESC, exception_type",
    )


def reference_breach_summary(path: Path) -> pd.DataFrame:
    """Reported breaches (rows kept, loaded) per reason code, source, table and column, most
    frequent first: unknown references, missing or stale FX rates, over-payments."""
    return read(
        path,
        'SELECT reason_code, source, "table", "column", count(*) AS rows '
        f"FROM {relation('audit', 'reference_breaches')} "
        "GROUP BY ALL ORDER BY rows DESC, 1, 2, 3, 4",
    )


def reference_breach_sample(
    path: Path, reason_code: str | None = None, limit: int = 50
) -> pd.DataFrame:
    """Breach rows with the loader's one-line reason (file, row and fix), optionally of one code."""
    where, params = (
        ("WHERE reason_code = ?", [reason_code]) if reason_code is not None else ("", [])
    )
    return read(
        path,
        'SELECT reason_code, source, "table", "column", "key", value, reason, file, row_number '
        f"FROM {relation('audit', 'reference_breaches')} {where} "
        'ORDER BY file, row_number, "key" LIMIT ?',
        [*params, int(limit)],
    )


def excluded_facts(path: Path) -> pd.DataFrame:
    """Facts left out of every total because their account is unknown, per table and reason."""
    return read(
        path,
        f"SELECT * FROM {relation('marts', 'excluded_facts')} "
        "ORDER BY excluded_rows DESC, fact_table, reason",
    )


#: The queries pages may run through the cache, by name.
QUERIES = {
    f.__name__: f
    for f in (
        existing_tables,
        mart_coverage,
        filter_options,
        build_info,
        runs_history,
        load_log,
        load_summary,
        quarantine_reasons,
        quarantine_sample,
        quarantine_files,
        source_freshness,
        quarantine_top_reasons,
        check_results,
        kpis_by_month,
        mrr_bridge,
        deferred_rollforward,
        invoice_months,
        accounts,
        invoices,
        invoice_lines,
        ar_aging_buckets,
        cohort_retention,
        top_accounts,
        mrr_by_segment,
        billing_exception_summary,
        reference_breach_summary,
        reference_breach_sample,
        excluded_facts,
    )
}
