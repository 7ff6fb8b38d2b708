"""The published warehouse's catalogue, for `subops tables` and `subops describe`.

Descriptions are the DuckDB comments dbt writes from the marts' yml (`persist_docs`), so these
commands show what any SQL client shows (`duckdb_tables()`, `duckdb_columns()`, DBeaver, the
DuckDB UI). Read through `connect_readonly` only; a name a user typed is only ever a bound
parameter, and `count(*)` names only a table the catalogue itself listed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.warehouse.readonly import SEARCH_PATH, connect_readonly

#: Schemas `subops tables --schema` lists: what analysts query (marts), the build's record
#: (audit) and the rows the loader set aside (quarantine), and the loaded extracts (raw).
LISTABLE_SCHEMAS = ("marts", "audit", "quarantine", "raw")

#: Longest one-line description in `subops tables` (the terminal may cut it shorter).
SUMMARY_WIDTH = 120


class TableNotFoundError(LookupError):
    """`subops describe` of a name the published warehouse does not have (message: one line)."""


@dataclass(frozen=True)
class TableSummary:
    schema: str
    name: str
    description: str
    rows: int

    @property
    def summary(self) -> str:
        return one_line(self.description)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str
    description: str


@dataclass(frozen=True)
class TableDescription:
    schema: str
    name: str
    kind: str  # "table" or "view"
    description: str
    rows: int | None  # None for a view: counting one would run its query
    columns: list[ColumnInfo] = field(default_factory=list)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def one_line(text: str, width: int = SUMMARY_WIDTH) -> str:
    """The first sentence of a description on one line, cut at a word with `…` past `width`."""
    flat = " ".join(text.split())
    first = _SENTENCE_END.split(flat, maxsplit=1)[0]
    if len(first) <= width:
        return first
    return first[: width - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def list_tables(path: Path, schema: str = "marts") -> list[TableSummary]:
    """Every table of `schema` (one of `LISTABLE_SCHEMAS`) with its comment and row count."""
    if schema not in LISTABLE_SCHEMAS:
        raise ValueError(f"schema must be one of {', '.join(LISTABLE_SCHEMAS)}, not {schema!r}")
    with connect_readonly(path) as con:
        listed = con.execute(
            "SELECT table_name, coalesce(comment, '') FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = ? ORDER BY table_name",
            [schema],
        ).fetchall()
        # schema and name come from the allow-list and the catalogue; quoted as identifiers
        return [
            TableSummary(schema, name, comment.strip(), _count(con, schema, name))
            for name, comment in listed
        ]


def describe_table(path: Path, name: str) -> TableDescription:
    """Columns, types and descriptions of one table or view: `fct_mrr_monthly` (looked up in
    `SEARCH_PATH` order, as in `subops sql`) or qualified, `raw.billing__usage`."""
    schema, _, table = name.rpartition(".")
    schemas = [schema] if schema else list(SEARCH_PATH)
    with connect_readonly(path) as con:
        for candidate in schemas:
            found = con.execute(
                "SELECT schema_name, table_name, 'table', coalesce(comment, '') "
                "FROM duckdb_tables() WHERE database_name = current_database() "
                "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?) "
                "UNION ALL "
                "SELECT schema_name, view_name, 'view', coalesce(comment, '') "
                "FROM duckdb_views() WHERE database_name = current_database() AND NOT internal "
                "AND lower(schema_name) = lower(?) AND lower(view_name) = lower(?)",
                [candidate, table, candidate, table],
            ).fetchall()
            if found:
                break
        else:
            raise TableNotFoundError(_not_found(con, name, schemas))
        schema, table, kind, comment = found[0]
        columns = [
            ColumnInfo(n, t, (c or "").strip())
            for n, t, c in con.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() "
                "WHERE database_name = current_database() AND schema_name = ? "
                "AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
        ]
        rows = _count(con, schema, table) if kind == "table" else None
    return TableDescription(schema, table, kind, comment.strip(), rows, columns)


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    """Rows of a table the catalogue listed (never a name a user typed)."""
    quoted = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table))
    return con.execute(f"SELECT count(*) FROM {quoted}").fetchall()[0][0]


def _not_found(con: duckdb.DuckDBPyConnection, name: str, schemas: list[str]) -> str:
    """One line: what was not found where, the nearest names, and how to list them."""
    known = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND list_contains(?, schema_name) "
            "UNION SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
            "AND NOT internal AND list_contains(?, schema_name)",
            [schemas, schemas],
        ).fetchall()
    ]
    table = name.rpartition(".")[2]
    close = difflib.get_close_matches(table.lower(), known, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    where = " or ".join(schemas)
    return f"no table or view {name!r} in {where}: {hint}`subops tables` lists the marts"
