"""Great Expectations suites for the raw tables, derived from the contract (GX Core 1.24).

Ranges (minimums, allowed values, plausible dates), vocabularies, completeness and key
uniqueness, run on pandas frames read from DuckDB (GX's SQL source fails silently on
DuckDB). Warnings, not blockers: the loader already rejected bad rows, these watch drift. They
validate what a build loaded (its new files), at most `gx_max_rows` rows per table in one batch:
beyond that a uniform sample, so memory and time stay bounded whatever the table's size.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import duckdb

from pipelines.contract import ColumnType, Table
from pipelines.contract.model import CODE_PATTERNS, Column
from pipelines.ingest.sql import ident, raw_table_ref
from pipelines.settings import Settings

T = ColumnType
EARLIEST_PLAUSIBLE = dt.datetime(1990, 1, 1)
#: Settings' default; the build passes the configured `gx_max_rows`.
DEFAULT_GX_MAX_ROWS: int = Settings.model_fields["gx_max_rows"].default
#: The range of a nanosecond timestamp (pandas' datetime64[ns]), with a margin.
_NS_MIN = "TIMESTAMP '1678-01-01'"
_NS_MAX = "TIMESTAMP '2261-12-31'"


@dataclass
class SuiteOutcome:
    table: str
    passed: bool
    evaluated: int  # expectations
    failed: list[str]
    rows: int = 0  # rows validated
    loaded: int = 0  # rows this build loaded (live in raw); rows < loaded: a sample

    def describe(self) -> str:
        if not self.loaded:
            return "no rows loaded by this build: nothing to validate"
        of = (
            f"all {self.loaded} rows loaded by this build"
            if self.rows >= self.loaded
            else f"a sample of {self.rows} of the {self.loaded} rows loaded by this build"
        )
        verdict = f"failed: {', '.join(self.failed)}" if self.failed else "all passed"
        return f"{self.evaluated} expectations on {of}; {verdict}"


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


def _gx_column(c: Column) -> str:
    """A raw column as GX's pandas engine compares it fast: numbers as floats, dates and
    timestamps as nanosecond datetimes (GX maps any other datetime dtype row by row in Python).
    Values beyond nanosecond range are clamped: they stay far outside every plausible range."""
    col = ident(c.name)
    if c.type is T.DECIMAL:
        return f"CAST({col} AS DOUBLE) AS {col}"
    if c.type in (T.DATE, T.TIMESTAMP):
        clamped = f"least(greatest(CAST({col} AS TIMESTAMP), {_NS_MIN}), {_NS_MAX})"
        return f"CAST({clamped} AS TIMESTAMP_NS) AS {col}"
    return col


def loaded_rows_sql(t: Table, max_rows: int) -> str:
    """The live raw rows of the files `$files` (this build's), all of them up to `max_rows`,
    else a uniform reservoir sample of `max_rows` (bounded memory whatever the table's size)."""
    cols = ", ".join(_gx_column(c) for c in t.columns)
    rows = f"SELECT * FROM {raw_table_ref(t.raw_table)} WHERE list_contains($files, _file)"
    return (
        f"SELECT {cols} FROM ({rows} AND NOT _is_deleted) "
        f"USING SAMPLE reservoir({int(max_rows)} ROWS) REPEATABLE (12)"
    )


def run_suite(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    files: Sequence[str],
    as_of: dt.date | None = None,
    max_rows: int = DEFAULT_GX_MAX_ROWS,
) -> SuiteOutcome:
    """Validate the rows this build loaded into raw.<table> (the live rows of `files`) with
    the table's suite, in one batch of at most `max_rows` rows (a uniform sample beyond it). The
    loader's contract checks see every row; the suite watches drift, which a sample shows.
    Nothing loaded by this build: nothing to validate, passes."""
    import great_expectations as gx

    loaded = con.execute(
        f"SELECT count(*) FROM {raw_table_ref(t.raw_table)} "
        "WHERE list_contains($files, _file) AND NOT _is_deleted",
        {"files": list(files)},
    ).fetchall()[0][0]
    if not loaded:
        return SuiteOutcome(t.qualified_name, True, 0, [], 0, 0)
    df = con.execute(loaded_rows_sql(t, max_rows), {"files": list(files)}).df()
    ctx = _context()
    name = f"{t.raw_table}@{as_of or dt.date.today()}"  # the plausible-date bound moves with it
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
    return SuiteOutcome(
        t.qualified_name, bool(res.success), len(res.results), failed, len(df), int(loaded)
    )
