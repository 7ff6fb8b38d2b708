"""Checking the SQL a mapping may carry: one scalar expression over the export's columns.

A mapping is configuration, not code: anything but an expression (a statement, a subquery, a
table function, a parameter) is refused, and every column it names is resolved against the
export files' headers (allow-list) so it can be quoted, or reported as missing.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator, Mapping

import duckdb

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Expression node classes an expression may contain.
_ALLOWED_CLASSES = frozenset(
    {
        "FUNCTION",
        "COLUMN_REF",
        "CONSTANT",
        "CASE",
        "CAST",
        "COMPARISON",
        "CONJUNCTION",
        "OPERATOR",
        "WINDOW",
        "BETWEEN",
        "COLLATE",
        "TYPE",  # the target type of a CAST
        "LAMBDA",
    }
)
#: Functions that reach outside the row (environment, settings, files).
_DENIED_FUNCTIONS = ("getenv", "current_setting", "read_", "write_", "glob", "query", "sniff")


class ExpressionError(ValueError):
    """An expression a mapping may not run; the message names where it is and why."""


def _nodes(node: object) -> Iterator[dict]:
    if isinstance(node, dict):
        if "class" in node:
            yield node
        for v in node.values():
            yield from _nodes(v)
    elif isinstance(node, list):
        for v in node:
            yield from _nodes(v)


_PROBE_HEAD, _PROBE_TAIL = "SELECT ", " AS __value FROM __export"


_LOCK = threading.Lock()
_CON: list[duckdb.DuckDBPyConnection] = []


def _run(sql: str, arg: str) -> str:
    """One scalar from a private in-memory DuckDB (parsing only: no data, no files)."""
    with _LOCK:
        if not _CON:
            _CON.append(duckdb.connect())
        return _CON[0].execute(sql, {"a": arg}).fetchall()[0][0]


@functools.lru_cache(maxsize=4096)
def _parse_tree(probe: str) -> str:
    return _run("SELECT json_serialize_sql($a)", probe)


def _serialize(sql: str, where: str) -> dict:
    probe = f"SELECT ({sql}) AS __value FROM __export"
    out = json.loads(_parse_tree(probe))
    if out.get("error"):
        raise ExpressionError(f"{where}: {sql!r} is not an SQL expression ({out['error_message']})")
    stmts = out["statements"]
    node = stmts[0]["node"] if len(stmts) == 1 else {}
    ok = (
        node.get("type") == "SELECT_NODE"
        and len(node.get("select_list", [])) == 1
        and node.get("from_table", {}).get("table_name") == "__export"
        and not node.get("where_clause")
        and not node.get("group_expressions")
        and not node.get("having")
        and not node.get("qualify")
        and not node.get("modifiers")
        and not node.get("cte_map", {}).get("map")
    )
    if not ok:
        raise ExpressionError(f"{where}: {sql!r} must be one expression, not a query or statement")
    return out


def _checked(out: dict, sql: str, where: str) -> list[tuple[str, ...]]:
    refs: list[tuple[str, ...]] = []
    for n in _nodes(out["statements"][0]["node"]["select_list"]):
        cls = n["class"]
        if cls not in _ALLOWED_CLASSES:
            raise ExpressionError(f"{where}: {sql!r}: {cls.lower()} is not allowed in a mapping")
        if cls in ("FUNCTION", "WINDOW"):
            fn = str(n.get("function_name", "")).lower()
            if any(fn.startswith(d) for d in _DENIED_FUNCTIONS):
                raise ExpressionError(f"{where}: {sql!r}: function {fn}() is not allowed")
        if cls == "COLUMN_REF":
            refs.append(tuple(n["column_names"]))
        if cls == "CAST":
            n["try_cast"] = True  # a value that does not convert is NULL, never an abort
    return refs


def parse_expression(sql: str, where: str) -> list[tuple[str, ...]]:
    """The column references of one SQL expression (each a 1- or 2-part name); raises
    ExpressionError for anything that is not a single scalar expression."""
    return _checked(_serialize(sql, where), sql, where)


def safe_expression(sql: str, where: str) -> str:
    """The expression as it is run: checked, with every CAST made a TRY_CAST (one bad value
    must not abort a whole export; the row is quarantined by its typed column instead)."""
    out = _serialize(sql, where)
    _checked(out, sql, where)
    rendered = _run("SELECT json_deserialize_sql($a)", json.dumps(out))
    if rendered.startswith(_PROBE_HEAD) and rendered.endswith(_PROBE_TAIL):
        return rendered[len(_PROBE_HEAD) : -len(_PROBE_TAIL)]
    return sql


def resolve(
    refs: list[tuple[str, ...]], headers: Mapping[str, list[str]], main: str, where: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Resolve column references against export headers {file: columns}: (found, missing), each
    as (file, column spelled as the header has it). An unqualified name missing everywhere is
    reported against the main file; one present in two files must be qualified."""
    found: list[tuple[str, str]] = []
    missing: list[tuple[str, str]] = []
    lower = {f: {c.lower(): c for c in cols} for f, cols in headers.items()}
    for ref in refs:
        if len(ref) == 1:
            col = ref[0]
            hits = [f for f in headers if col.lower() in lower[f]]
            if len(hits) > 1:
                raise ExpressionError(
                    f"{where}: column {col!r} is in {' and '.join(hits)}; write "
                    f"{hits[0]}.{col} or {hits[1]}.{col}"
                )
            if hits:
                found.append((hits[0], lower[hits[0]][col.lower()]))
            else:
                missing.append((main, col))
        elif len(ref) == 2:
            f, col = ref
            fk = next((k for k in headers if k.lower() == f.lower()), None)
            if fk is None:
                raise ExpressionError(
                    f"{where}: {f}.{col} names no export file of this table "
                    f"(files: {', '.join(headers)})"
                )
            if col.lower() in lower[fk]:
                found.append((fk, lower[fk][col.lower()]))
            else:
                missing.append((fk, col))
        else:
            raise ExpressionError(f"{where}: {'.'.join(ref)}: write file.column or column")
    return found, missing


def quote(name: str) -> str:
    """Quote an export file or column name already checked against a header (allow-list)."""
    if '"' in name or "\x00" in name:
        raise ExpressionError(f"column name {name!r} cannot be quoted")
    return f'"{name}"'


def check_name(name: str, where: str) -> str:
    if not _NAME.match(name):
        raise ExpressionError(f"{where}: {name!r} must be a plain name (letters, digits, _)")
    return name
