"""Row validation and typing, generated from the contract as bulk SQL over an all-VARCHAR frame.

For each column one CASE expression yields the first failing reason code (or NULL), in the
order a person would fix them: missing value, unparseable value, bad vocabulary, bad number.
"""

from __future__ import annotations

from pipelines.contract import ColumnType, Table
from pipelines.contract.model import CODE_PATTERNS, RAW_SQL_TYPES, Column
from pipelines.ingest.sql import Params, ident

T = ColumnType

_DECIMAL_RE = r"-?[0-9]+(\.[0-9]+)?"
_INT_RE = r"-?[0-9]+"
_DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TS_RE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)

#: How each type must be written, for reasons a person can act on.
TYPE_FORMATS: dict[ColumnType, str] = {
    T.DATE: "a date written YYYY-MM-DD",
    T.TIMESTAMP: "an ISO 8601 timestamp such as 2026-01-31T14:05:00Z",
    T.DECIMAL: "a number written like -1234.5678 (dot decimal, no thousands separator, "
    "at most 4 decimals)",
    T.INT: "a whole number such as 42",
    T.BOOL: "true or false",
}


def is_missing(c: str) -> str:
    return f"({c} IS NULL OR trim({c}) = '')"


def typed_expr(col: Column, p: Params, src: str = "") -> str:
    """SQL turning the VARCHAR value into the raw table's type (NULL when it does not parse)."""
    c = f"{src}{ident(col.name)}"
    match col.type:
        case T.DATE:
            return f"CAST(try_strptime({c}, '%Y-%m-%d') AS DATE)"
        case T.TIMESTAMP:
            # no offset means UTC; stored as naive UTC
            return f"timezone('UTC', try_cast({c} AS TIMESTAMPTZ))"
        case T.DECIMAL | T.INT:
            return f"try_cast({c} AS {col.sql_type})"
        case T.BOOL:
            return f"CASE {c} WHEN 'true' THEN true WHEN 'false' THEN false END"
        case _:
            return c


def _bad_type(col: Column, p: Params) -> str | None:
    c = ident(col.name)
    match col.type:
        case T.DATE:
            return f"(NOT regexp_full_match({c}, {p(_DATE_RE)}) OR {typed_expr(col, p)} IS NULL)"
        case T.TIMESTAMP:
            return f"(NOT regexp_full_match({c}, {p(_TS_RE)}) OR {typed_expr(col, p)} IS NULL)"
        case T.DECIMAL:
            # exact money: more than 4 significant decimals would be rounded away -> refuse
            return (
                f"(NOT regexp_full_match({c}, {p(_DECIMAL_RE)}) OR {typed_expr(col, p)} IS NULL"
                f" OR try_cast({c} AS DECIMAL(38,12)) <> {typed_expr(col, p)})"
            )
        case T.INT:
            return f"(NOT regexp_full_match({c}, {p(_INT_RE)}) OR {typed_expr(col, p)} IS NULL)"
        case T.BOOL:
            return f"({c} NOT IN ('true', 'false'))"
    return None


def failure_case(table: Table, col: Column, p: Params) -> str:
    """CASE expression: the first reason code this column fails with, else NULL. A missing value
    is decided first, so the later branches only ever see present values (a CASE evaluates
    each branch only on the rows no earlier branch took)."""
    c = ident(col.name)
    if col.required:
        missing = p("missing_required")
    elif col.required_when:
        other, values = col.required_when
        missing = (
            f"CASE WHEN list_contains({p(list(values))}, {ident(other)}) "
            f"THEN {p('missing_required')} END"
        )
    else:
        missing = "CAST(NULL AS VARCHAR)"
    whens: list[tuple[str, str]] = []
    bad = _bad_type(col, p)
    if bad:
        whens.append((bad, "bad_type"))
    if col.type is T.ENUM:
        whens.append((f"NOT list_contains({p(list(col.enum))}, {c})", "bad_enum"))
    if col.type in CODE_PATTERNS:
        code = "bad_currency" if col.type is T.CURRENCY else "bad_country"
        whens.append((f"NOT regexp_full_match({c}, {p(CODE_PATTERNS[col.type])})", code))
    if col.minimum is not None and col.is_money_or_number:
        op = "<=" if col.exclusive_minimum else "<"
        bound = f"CAST({p(col.minimum)} AS {RAW_SQL_TYPES[T.DECIMAL]})"
        whens.append((f"{typed_expr(col, p)} {op} {bound}", "negative_amount"))
    if col.allowed:
        whens.append(
            (f"NOT list_contains({p(list(col.allowed))}, {typed_expr(col, p)})", "out_of_range")
        )
    if not whens and not (col.required or col.required_when):
        return "CAST(NULL AS VARCHAR)"
    body = " ".join(f"WHEN {cond} THEN {p(code)}" for cond, code in whens)
    return f"CASE WHEN {is_missing(c)} THEN {missing} {body} END"


def failures_sql(table: Table, src: str, p: Params) -> str:
    """One row per row that fails: file, row, list of per-column codes, duplicate info, and
    `__id` numbering the rows in (file, row) order. A key repeated within a file is found by
    grouping (a hash aggregate), not by a window over every row."""
    cases = ", ".join(failure_case(table, col, p) for col in table.columns)
    keys = ", ".join(ident(k) for k in table.key)
    keys_present = " AND ".join(f"NOT {is_missing(ident(k))}" for k in table.key)
    on = " AND ".join(f"d.{ident(k)} = s.{ident(k)}" for k in table.key)
    return f"""
        WITH dups AS (
            SELECT __file, {keys}, min(__row) AS first_row
            FROM {src}
            WHERE {keys_present}
            GROUP BY ALL
            HAVING count(*) > 1
        ),
        f AS (
            SELECT s.__file, s.__row, s.codes, d.first_row
            FROM (SELECT __file, __row, {keys}, [{cases}] AS codes FROM {src}) s
            LEFT JOIN dups d ON d.__file = s.__file AND {on}
        )
        SELECT row_number() OVER (ORDER BY __file, __row) AS __id, __file, __row, codes,
               coalesce(__row > first_row, false) AS is_dup, first_row
        FROM f
        WHERE len(list_filter(codes, lambda x: x IS NOT NULL)) > 0
           OR coalesce(__row > first_row, false)
    """


def describe(
    table: Table, file: str, row: int, column: str, code: str, value: object, first_row: int
) -> str:
    """A sentence a person can act on: where (file, row, column), what is wrong, what to do."""
    where = f"{file} row {row}, column '{column}'"
    shown = "empty" if value is None or str(value).strip() == "" else repr(str(value))
    if code == "duplicate_key":
        return (
            f"{where}: key {shown} already appears at row {first_row} of the same file; the "
            "first occurrence was loaded — remove or correct this one."
        )
    col = table.column(column)
    match code:
        case "missing_required":
            cond = ""
            if col.required_when:
                other, values = col.required_when
                cond = f" when {other} is {' or '.join(values)}"
            return f"{where}: the value is empty but required{cond}; fill it in and re-send."
        case "bad_type":
            return f"{where}: {shown} is not {TYPE_FORMATS[col.type]}; correct the value."
        case "bad_enum":
            return f"{where}: {shown} is not one of {', '.join(col.enum)}; use one of those words."
        case "bad_currency":
            return f"{where}: {shown} is not an ISO 4217 currency; use an upper-case code like USD."
        case "bad_country":
            return f"{where}: {shown} is not an ISO 3166-1 alpha-2 country; use a code like US."
        case "negative_amount":
            bound = f"greater than {col.minimum}" if col.exclusive_minimum else f"≥ {col.minimum}"
            return f"{where}: {shown} must be {bound}; correct the amount."
        case "out_of_range":
            allowed = ", ".join(str(a) for a in col.allowed)
            return f"{where}: {shown} is not one of the allowed values {allowed}."
    return f"{where}: {code}"
