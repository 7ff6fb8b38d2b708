"""Contract checks of single values and rows, shared by the generator's tests and anyone who wants
to verify a landing file by hand. Mirrors docs/sources.md; returns REASON_CODES."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from pipelines.contract import Column, ColumnType, Table
from pipelines.contract.model import CODE_PATTERNS

T = ColumnType
_DEC = re.compile(r"^-?\d+(\.\d+)?$")
_INT = re.compile(r"^-?\d+$")
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_CCY = re.compile(f"^{CODE_PATTERNS[ColumnType.CURRENCY]}$")
_CTRY = re.compile(f"^{CODE_PATTERNS[ColumnType.COUNTRY]}$")


def check_value(c: Column, v: str | None) -> str | None:
    """Reason code of a bad non-empty value (None when fine); emptiness is checked by rows."""
    if v is None or v == "":
        return None
    return _type_fault(c, v) or _domain_fault(c, v)


#: types whose text form a pattern or a list decides
_TYPE_OK = {
    T.DECIMAL: lambda v: _DEC.match(v) is not None,
    T.INT: lambda v: _INT.match(v) is not None,
    T.BOOL: lambda v: v in ("true", "false"),
}


def _type_fault(c: Column, v: str) -> str | None:
    """`bad_type` when v is not a value of the column's type."""
    try:
        if c.type == T.DATE:
            dt.date.fromisoformat(v) if len(v) == 10 else _fail()
        elif c.type == T.TIMESTAMP:
            if not _TS.match(v):
                return "bad_type"
            dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        elif c.type in _TYPE_OK and not _TYPE_OK[c.type](v):
            return "bad_type"
    except ValueError:
        return "bad_type"
    return None


def _domain_fault(c: Column, v: str) -> str | None:
    """A well-typed value outside the column's domain (enum, code pattern, minimum, allowed)."""
    if c.type == T.ENUM and v not in c.enum:
        return "bad_enum"
    if c.type == T.CURRENCY and not _CCY.match(v):
        return "bad_currency"
    if c.type == T.COUNTRY and not _CTRY.match(v):
        return "bad_country"
    if c.minimum is not None:
        x, m = Decimal(v), Decimal(c.minimum)
        if x < m or (c.exclusive_minimum and x == m):
            return "negative_amount"
    if c.allowed and int(v) not in c.allowed:
        return "out_of_range"
    return None


def _fail() -> None:
    raise ValueError


def check_row(t: Table, row: dict[str, str | None]) -> list[tuple[str, str]]:
    """(column, reason) of every row-level fault of one row (types, enums, required values)."""
    bad = []
    for c in t.columns:
        v = row.get(c.name)
        empty = v is None or v == ""
        need = c.required or (
            c.required_when is not None and row.get(c.required_when[0]) in c.required_when[1]
        )
        if empty and need:
            bad.append((c.name, "missing_required"))
        elif (r := check_value(c, v)) is not None:
            bad.append((c.name, r))
    return bad


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str | None]]]:
    """Header and rows of a landing file (CSV or Parquet); empty CSV fields become None."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        tbl = pq.read_table(path)
        return tbl.column_names, tbl.to_pylist()
    with open(path, encoding="utf-8", newline="") as fh:
        r = csv.reader(fh)
        header = next(r)
        rows = [
            {k: (v if v != "" else None) for k, v in zip(header, rec, strict=True)} for rec in r
        ]
    return header, rows
