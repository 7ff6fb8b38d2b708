"""Referential rules (docs/metrics.md Q1), checked after load across every extract so far, and two
plausibility rules (Q2): over-payments and stale FX rates.

Breaches are reported in `audit.reference_breaches` (recomputed each build: it describes the
warehouse as it is); the rows stay loaded. Everything is derived from the contract:
`Column.references` for ids, currency + money columns for FX, usage plans for metrics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipelines.contract import TABLES, ColumnType, Table, table
from pipelines.contract.model import FX_BASE_CURRENCY
from pipelines.ingest.sql import Params, ident, raw_table_ref
from pipelines.settings import Settings

#: A table whose breaches exceed this share of the rows the rule examines blocks publication
#: (systematic, e.g. a missing parent extract, payments in minor units); isolated breaches are
#: reported and published. The rows examined are the table's rows, except for over-payments:
#: succeeded payments against a loaded invoice (see `_rule_rows`).
MAX_BREACH_RATE = 0.10
#: Settings' default; the build passes the configured `fx_max_rate_age_days`.
DEFAULT_FX_MAX_RATE_AGE_DAYS: int = Settings.model_fields["fx_max_rate_age_days"].default


@dataclass(frozen=True)
class BreachSummary:
    table: str
    column: str
    reason_code: str
    breaches: int
    rows: int

    @property
    def rate(self) -> float:
        return self.breaches / self.rows if self.rows else 0.0


def fx_day_column(t: Table) -> str | None:
    """The day an FX rate is needed for a row: its first required date, else its first required
    timestamp other than `updated_at` (a bookkeeping time, not a business day). None for tables
    without both a currency and a money column (or without such a day, e.g. the price book):
    their currency only needs some FX rate."""
    has_money = any(c.type is ColumnType.DECIMAL for c in t.columns)
    if "currency" not in t.column_names or not has_money or t.source == "reference":
        return None
    for kind in (ColumnType.DATE, ColumnType.TIMESTAMP):
        for c in t.columns:
            if c.type is kind and c.required and c.name != "updated_at":
                return c.name
    return None


def _key_expr(t: Table, alias: str) -> str:
    return " || '|' || ".join(f"CAST({alias}.{ident(k)} AS VARCHAR)" for k in t.key)


def breach_queries(
    run_id: str,
    checked_at: dt.datetime,
    fx_max_rate_age_days: int = DEFAULT_FX_MAX_RATE_AGE_DAYS,
    as_of: dt.date | None = None,
) -> list[tuple[str, dict]]:
    """One INSERT ... SELECT per rule, all derived from the contract. Each is one scan of the
    table it checks with hash joins on small lookups (no rate on or before a day = the
    currency's first rate is later), so the cost grows with the rows, not rows x rates."""
    out: list[tuple[str, dict]] = []
    fx = table("reference.fx_rates")
    for t in TABLES:
        raw = raw_table_ref(t.raw_table)
        for c in t.columns:
            if not c.references:
                continue
            ref_t = table(c.references[0])
            ref_c = ident(c.references[1])
            p = Params()
            col = ident(c.name)
            out.append(
                (
                    f"""INSERT INTO audit.reference_breaches
                    SELECT {p(t.source)}, {p(t.name)}, {_key_expr(t, "r")}, {p(c.name)},
                           r.{col}, 'unknown_reference',
                           r._file || ' row ' || r._row_number || ': ' || {p(c.name)} || ' '''
                           || r.{col} || ''' names no row of ' || {p(ref_t.qualified_name)}
                           || ' in any extract so far; send the missing row or fix the id.',
                           r._file, r._row_number, {p(run_id)}, {p(checked_at)}
                    FROM {raw} r
                    WHERE r.{col} IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM {raw_table_ref(ref_t.raw_table)} x WHERE x.{ref_c} = r.{col})
                """,
                    p.values,
                )
            )
        day = fx_day_column(t)
        if day is None and "currency" in t.column_names and t.source != "reference":
            # no money on the row (accounts, vendors): the currency needs a rate at all
            p = Params()
            out.append(
                (
                    f"""INSERT INTO audit.reference_breaches
                    SELECT {p(t.source)}, {p(t.name)}, {_key_expr(t, "r")}, 'currency',
                           r.currency, 'no_fx_rate',
                           r._file || ' row ' || r._row_number || ': currency ' || r.currency
                           || ' has no FX rate on any day; add its rates to '
                           || {p(fx.qualified_name)} || '.',
                           r._file, r._row_number, {p(run_id)}, {p(checked_at)}
                    FROM {raw} r
                    WHERE r.currency <> {p(FX_BASE_CURRENCY)} AND NOT EXISTS (
                        SELECT 1 FROM {raw_table_ref(fx.raw_table)} f
                        WHERE f.currency = r.currency)
                """,
                    p.values,
                )
            )
        if day:
            p = Params()
            out.append(
                (
                    f"""INSERT INTO audit.reference_breaches
                    SELECT {p(t.source)}, {p(t.name)}, {_key_expr(t, "r")}, 'currency',
                           r.currency, 'no_fx_rate',
                           r._file || ' row ' || r._row_number || ': currency ' || r.currency
                           || ' has no FX rate on or before ' || CAST(CAST(r.{ident(day)} AS DATE)
                           AS VARCHAR) || ' (' || {p(day)} || '); add the rate to '
                           || {p(fx.qualified_name)} || '.',
                           r._file, r._row_number, {p(run_id)}, {p(checked_at)}
                    FROM {raw} r
                    LEFT JOIN (
                        SELECT currency, min(rate_date) AS first_rate
                        FROM {raw_table_ref(fx.raw_table)} GROUP BY currency
                    ) f ON f.currency = r.currency
                    WHERE r.currency <> {p(FX_BASE_CURRENCY)} AND r.{ident(day)} IS NOT NULL
                      AND (f.first_rate IS NULL OR f.first_rate > CAST(r.{ident(day)} AS DATE))
                """,
                    p.values,
                )
            )
            out.append(_stale_fx_query(t, day, run_id, checked_at, fx_max_rate_age_days, as_of))
    # a usage row's metric matches the usage plan of its subscription
    usage, events, plans = (
        table("billing.usage"),
        table("billing.subscription_events"),
        table("billing.plans"),
    )
    p = Params()
    out.append(
        (
            f"""INSERT INTO audit.reference_breaches
            SELECT {p(usage.source)}, {p(usage.name)}, {_key_expr(usage, "u")}, 'usage_metric',
                   u.usage_metric, 'unknown_reference',
                   u._file || ' row ' || u._row_number || ': usage_metric ''' || u.usage_metric
                   || ''' is not the metric of any usage plan of subscription '
                   || u.subscription_id || '; fix the metric or the subscription''s plan.',
                   u._file, u._row_number, {p(run_id)}, {p(checked_at)}
            FROM {raw_table_ref(usage.raw_table)} u
            WHERE EXISTS (SELECT 1 FROM {raw_table_ref(events.raw_table)} e
                          WHERE e.subscription_id = u.subscription_id)
              AND NOT EXISTS (
                SELECT 1 FROM {raw_table_ref(events.raw_table)} e
                JOIN {raw_table_ref(plans.raw_table)} pl ON pl.plan_id = e.plan_id
                WHERE e.subscription_id = u.subscription_id AND pl.charge_type = 'usage'
                  AND pl.usage_metric = u.usage_metric)
        """,
            p.values,
        )
    )
    out.append(_overpayment_query(run_id, checked_at))
    return out


def _money(expr: str) -> str:
    """A money expression as text with 2 decimals (breach messages only)."""
    return f"CAST(CAST({expr} AS DECIMAL(38, 2)) AS VARCHAR)"


def _stale_fx_query(
    t: Table,
    day: str,
    run_id: str,
    checked_at: dt.datetime,
    max_age_days: int,
    as_of: dt.date | None,
) -> tuple[str, dict]:
    """stale_fx_rate: the rate R1 converts the row at (the latest on or before its day) is more
    than `max_age_days` older than that day, e.g. a month without rates silently converted at
    the previous month's. A day after the as-of date is judged at the as-of date (no rate of a
    later day can exist yet). A row with no rate at all is `no_fx_rate`, not this. One ASOF JOIN
    (sort-merge), so tens of millions of rows stay cheap."""
    fx = table("reference.fx_rates")
    p = Params()
    row_day = f"CAST(r.{ident(day)} AS DATE)"
    lookup = row_day if as_of is None else f"least({row_day}, CAST({p(as_of)} AS DATE))"
    sql = f"""INSERT INTO audit.reference_breaches
        SELECT {p(t.source)}, {p(t.name)}, {_key_expr(t, "r")}, 'currency', r.currency,
               'stale_fx_rate',
               r._file || ' row ' || r._row_number || ': the latest ' || r.currency
               || ' rate on or before ' || CAST(r.__lookup_day AS VARCHAR) || ' ('
               || {p(day)} || ') is of ' || CAST(f.rate_date AS VARCHAR) || ', '
               || CAST(date_diff('day', f.rate_date, r.__lookup_day) AS VARCHAR)
               || ' days old (allowed: ' || {p(str(max_age_days))} || '); add the missing'
               || ' rates to ' || {p(fx.qualified_name)} || ', or raise fx_max_rate_age_days'
               || ' if rates are published less often.',
               r._file, r._row_number, {p(run_id)}, {p(checked_at)}
        FROM (
            SELECT *, {lookup} AS __lookup_day
            FROM {raw_table_ref(t.raw_table)} r
            WHERE r.currency <> {p(FX_BASE_CURRENCY)} AND r.{ident(day)} IS NOT NULL
        ) r
        ASOF JOIN {raw_table_ref(fx.raw_table)} f
            ON f.currency = r.currency AND r.__lookup_day >= f.rate_date
        WHERE date_diff('day', f.rate_date, r.__lookup_day) > {p(max_age_days)}
    """
    return sql, p.values


def _overpayment_query(run_id: str, checked_at: dt.datetime) -> tuple[str, dict]:
    """overpayment: a succeeded payment after which its invoice's net paid (succeeded minus
    refunded payments, in attempted_at order) exceeds what the invoice asks for, on an invoice
    still over-paid over all its payments (a duplicate payment refunded later is no breach).
    Credit notes are not netted: they lower what is owed, not what was paid, so a service credit
    after full payment is a customer credit balance (R8 open balance < 0), not an over-payment.
    A void invoice asks for nothing, nor does a credit invoice (total <= 0)."""
    pay, inv = table("billing.payments"), table("billing.invoices")
    p = Params()
    net = "CASE p.status WHEN 'succeeded' THEN p.amount WHEN 'refunded' THEN -p.amount ELSE 0 END"
    sql = f"""INSERT INTO audit.reference_breaches
        WITH paid AS (
            SELECT p.*, i.total AS __total, i.status AS __invoice_status,
                   i.currency AS __invoice_currency,
                   CASE WHEN i.status = 'void' OR i.total < 0 THEN 0 ELSE i.total END AS __owed,
                   sum({net}) OVER (
                       PARTITION BY p.invoice_id ORDER BY p.attempted_at, p.payment_id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __paid_so_far,
                   sum({net}) OVER (PARTITION BY p.invoice_id) AS __net_paid
            FROM {raw_table_ref(pay.raw_table)} p
            JOIN {raw_table_ref(inv.raw_table)} i ON i.invoice_id = p.invoice_id
        )
        SELECT {p(pay.source)}, {p(pay.name)}, {_key_expr(pay, "r")}, 'amount',
               CAST(r.amount AS VARCHAR), 'overpayment',
               r._file || ' row ' || r._row_number || ': succeeded payment ' || r.payment_id
               || ' of ' || {_money("r.amount")} || ' ' || r.currency || ' takes invoice '
               || r.invoice_id || ' to a net paid (succeeded - refunded) of '
               || {_money("r.__paid_so_far")} || ', '
               || CASE
                    WHEN r.__invoice_status = 'void'
                        THEN 'but the invoice is void (nothing is owed)'
                    WHEN r.__total <= 0
                        THEN 'but it is a credit invoice (total ' || {_money("r.__total")}
                            || ', nothing is owed)'
                    ELSE 'above its total of ' || {_money("r.__total")} || ' '
                        || r.__invoice_currency
                  END
               || '; over-paid by ' || {_money("r.__net_paid - r.__owed")}
               || ' in all. Refund or re-apply the excess, or correct the payment''s amount'
               || ' or invoice_id.',
               r._file, r._row_number, {p(run_id)}, {p(checked_at)}
        FROM paid r
        WHERE r.status = 'succeeded' AND r.__net_paid > r.__owed AND r.__paid_so_far > r.__owed
    """
    return sql, p.values


def _rule_rows(con: duckdb.DuckDBPyConnection, t: Table, code: str) -> int:
    """How many rows a rule examines: the denominator of the systematic-breach share. For
    over-payments only succeeded payments against a loaded invoice can breach, so failed and
    refunded attempts do not dilute the share."""
    if code == "overpayment":
        inv = table("billing.invoices")
        sql = f"""SELECT count(*) FROM {raw_table_ref(t.raw_table)} p
                  WHERE p.status = 'succeeded' AND EXISTS (
                    SELECT 1 FROM {raw_table_ref(inv.raw_table)} i
                    WHERE i.invoice_id = p.invoice_id)"""
    else:
        sql = f"SELECT count(*) FROM {raw_table_ref(t.raw_table)}"
    return con.execute(sql).fetchall()[0][0]


def check_references(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    checked_at: dt.datetime | None = None,
    *,
    fx_max_rate_age_days: int = DEFAULT_FX_MAX_RATE_AGE_DAYS,
    as_of: dt.date | None = None,
) -> list[BreachSummary]:
    """Recompute audit.reference_breaches; return per (table, column, reason) counts.
    `as_of` is the build's as-of date: rows dated later are judged for stale FX rates on it."""
    checked_at = checked_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM audit.reference_breaches")
        for sql, params in breach_queries(run_id, checked_at, fx_max_rate_age_days, as_of):
            con.execute(sql, params)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    rows = con.execute(
        """SELECT source, "table", "column", reason_code, count(*)
           FROM audit.reference_breaches GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    out = []
    for source, tname, column, code, n in rows:
        t = table(f"{source}.{tname}")
        out.append(BreachSummary(t.qualified_name, column, code, n, _rule_rows(con, t, code)))
    return out


def blocking_breaches(summaries: list[BreachSummary]) -> list[BreachSummary]:
    return [s for s in summaries if s.rate > MAX_BREACH_RATE]
