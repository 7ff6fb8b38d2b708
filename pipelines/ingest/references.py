"""Referential rules of sources.md, checked after load across every extract so far.

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

#: A table whose breaches exceed this share of its rows blocks publication (systematic, e.g. a
#: missing parent extract); isolated breaches are reported and published.
MAX_BREACH_RATE = 0.10


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


def breach_queries(run_id: str, checked_at: dt.datetime) -> list[tuple[str, dict]]:
    """One INSERT ... SELECT per rule, all derived from the contract."""
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
                    WHERE r.currency <> {p(FX_BASE_CURRENCY)} AND r.{ident(day)} IS NOT NULL
                      AND NOT EXISTS (
                        SELECT 1 FROM {raw_table_ref(fx.raw_table)} f
                        WHERE f.currency = r.currency
                          AND f.rate_date <= CAST(r.{ident(day)} AS DATE))
                """,
                    p.values,
                )
            )
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
    return out


def check_references(
    con: duckdb.DuckDBPyConnection, run_id: str, checked_at: dt.datetime | None = None
) -> list[BreachSummary]:
    """Recompute audit.reference_breaches; return per (table, column, reason) counts."""
    checked_at = checked_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM audit.reference_breaches")
        for sql, params in breach_queries(run_id, checked_at):
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
        total = con.execute(f"SELECT count(*) FROM {raw_table_ref(t.raw_table)}").fetchall()[0][0]
        out.append(BreachSummary(t.qualified_name, column, code, n, total))
    return out


def blocking_breaches(summaries: list[BreachSummary]) -> list[BreachSummary]:
    return [s for s in summaries if s.rate > MAX_BREACH_RATE]
