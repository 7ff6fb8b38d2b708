"""Small helpers to build SQL from the contract: identifiers only from an allow-list, every
value a bound parameter."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pipelines.contract import LINEAGE_COLUMNS, TABLES

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
#: Every identifier SQL built here may contain: contract names, lineage and loader internals.
ALLOWED_IDENTIFIERS: frozenset[str] = frozenset(
    {c.name for t in TABLES for c in t.columns}
    | {t.raw_table for t in TABLES}
    | {n for n, _, _ in LINEAGE_COLUMNS}
    | {"__file", "__extract_id", "__row", "__extra"}
)


def ident(name: str) -> str:
    """Quote an identifier, refusing anything that is not a contract or loader name."""
    if name not in ALLOWED_IDENTIFIERS or not _IDENT.match(name):
        raise ValueError(f"identifier {name!r} is not in the contract allow-list")
    return f'"{name}"'


def raw_table_ref(raw_table: str) -> str:
    """`raw.<source>__<table>` for a contract table only."""
    if raw_table not in {t.raw_table for t in TABLES}:
        raise ValueError(f"{raw_table!r} is not a contract table")
    return f"raw.{raw_table}"


class Params:
    """Collects bound parameters while SQL is generated: `p(value)` returns a `$pN` placeholder."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


_PLACEHOLDER = re.compile(r"\$(p[0-9]+)\b")


def literal(value: Any) -> str:
    """A SQL literal for a value SQL built here binds (contract constants, times, numbers)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def inline(sql: str, values: dict[str, Any]) -> str:
    """`sql` with its `$pN` placeholders replaced by literals: for the few statements DuckDB
    cannot bind parameters to (a query over an Arrow batch, `DuckDBPyRelation.query`)."""
    return _PLACEHOLDER.sub(lambda m: literal(values[m.group(1)]), sql)
