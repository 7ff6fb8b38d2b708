"""Great Expectations suites for the raw tables, derived from the contract (GX Core 1.24).

Ranges (minimums, allowed values, plausible dates), vocabularies, completeness and key
uniqueness, run on pandas frames read from DuckDB (GX's SQL source fails silently on
DuckDB). Warnings, not blockers: the loader already rejected bad rows, these watch drift.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import duckdb

from pipelines.contract import ColumnType, Table
from pipelines.contract.model import CODE_PATTERNS
from pipelines.ingest.sql import raw_table_ref

T = ColumnType
EARLIEST_PLAUSIBLE = dt.datetime(1990, 1, 1)


@dataclass
class SuiteOutcome:
    table: str
    passed: bool
    evaluated: int
    failed: list[str]


@lru_cache(maxsize=1)
def _context() -> Any:
    """One ephemeral context per process (importing GX costs seconds)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def expectations_for(t: Table, as_of: dt.date | None = None) -> list[Any]:
    import great_expectations as gx

    e = gx.expectations
    latest = dt.datetime.combine(as_of or dt.date.today(), dt.time()) + dt.timedelta(days=3 * 366)
    out: list[Any] = []
    if len(t.key) == 1:
        out.append(e.ExpectColumnValuesToBeUnique(column=t.key[0]))
    else:
        out.append(e.ExpectCompoundColumnsToBeUnique(column_list=list(t.key)))
    for c in t.columns:
        if c.required:
            out.append(e.ExpectColumnValuesToNotBeNull(column=c.name))
        if c.enum:
            out.append(e.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.enum)))
        if c.allowed:
            out.append(e.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.allowed)))
        if c.minimum is not None and c.is_money_or_number:
            out.append(
                e.ExpectColumnValuesToBeBetween(
                    column=c.name, min_value=float(c.minimum), strict_min=c.exclusive_minimum
                )
            )
        if c.type is T.CURRENCY:
            regex = f"^{CODE_PATTERNS[T.CURRENCY]}$"
            out.append(e.ExpectColumnValuesToMatchRegex(column=c.name, regex=regex))
        if c.type in (T.DATE, T.TIMESTAMP) and c.required:
            # plausible business dates: catches epoch zeros and far-future typos (99% of rows)
            out.append(
                e.ExpectColumnValuesToBeBetween(
                    column=c.name, min_value=EARLIEST_PLAUSIBLE, max_value=latest, mostly=0.99
                )
            )
    return out


def run_suite(
    con: duckdb.DuckDBPyConnection, t: Table, as_of: dt.date | None = None
) -> SuiteOutcome:
    """Validate raw.<table> (live rows) with its suite; an empty table passes trivially."""
    import great_expectations as gx

    cols = ", ".join(f'"{c}"' for c in t.column_names)
    df = con.execute(f"SELECT {cols} FROM {raw_table_ref(t.raw_table)} WHERE NOT _is_deleted").df()
    if df.empty:
        return SuiteOutcome(t.qualified_name, True, 0, [])
    for c in t.columns:  # GX compares numbers as floats and dates as datetimes
        if c.type is T.DECIMAL:
            df[c.name] = df[c.name].astype("float64")
        if c.type is T.DATE:
            df[c.name] = df[c.name].astype("datetime64[us]")
    ctx = _context()
    name = t.raw_table
    try:
        vd = ctx.validation_definitions.get(name)
    except Exception:
        try:
            ds = ctx.data_sources.get("raw")
        except Exception:
            ds = ctx.data_sources.add_pandas("raw")
        asset = ds.add_dataframe_asset(name)
        batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = ctx.suites.add(gx.ExpectationSuite(name=name))
        for exp in expectations_for(t, as_of):
            suite.add_expectation(exp)
        vd = ctx.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
    res = vd.run(batch_parameters={"dataframe": df})
    failed = [
        f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column', '')})"
        for r in res.results
        if not r.success
    ]
    return SuiteOutcome(t.qualified_name, bool(res.success), len(res.results), failed)
