"""Read-only access to the published warehouse, as dashboards, `subops sql` and analysts get it."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

#: At most this many DuckDB threads per read-only session: a query cannot take every core
#: from a build running next to it.
MAX_READ_THREADS = 4

#: Where every read-only session looks up an unqualified name, in order: the marts analysts
#: query, then the audit trail (`select * from fct_mrr_monthly`, `from runs`; `show tables`
#: lists both). Qualified names (`raw.billing__usage`) work as before.
SEARCH_PATH = ("marts", "audit")

#: The documented way to open the published file in the DuckDB CLI (2.0 or newer: the file's
#: storage version), the same search path and read-only; README.md shows it.
DUCKDB_CLI = (
    f"duckdb -readonly -cmd \"SET search_path='{','.join(SEARCH_PATH)}'\" "
    "data/warehouse/current.duckdb"
)


class WarehouseNotFoundError(RuntimeError):
    """No warehouse has been published yet."""


def readonly_config(memory_limit: str, threads: int) -> dict[str, object]:
    """DuckDB settings of a read-only session, locked so a `SET` cannot undo them.

    * `enable_external_access = false`: no files, no network, no extensions. DuckDB still
      allow-lists its temp directory (by default `<database>.tmp` next to the file, i.e. inside
      `builds/`), so on its own it lets `COPY ... TO '<build>.duckdb.tmp/x'` write there.
    * `temp_directory = ''`: no temp directory at all, so nothing is on the allow-list and a
      query that outgrows `memory_limit` fails with an out-of-memory error instead of spilling
      to the warehouse's disk.
    * `lock_configuration = true`: `SET`, `RESET`, `PRAGMA` settings are refused afterwards.
    """
    return {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "temp_directory": "",
        "max_temp_directory_size": "0B",
        "memory_limit": memory_limit,
        "threads": threads,
        "lock_configuration": True,
    }


def connect_readonly(
    path: Path, *, memory_limit: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """Open a warehouse file read-only: no file or network access, no spilling to disk, memory
    capped (`memory_limit`, default the `sql_memory_limit` setting), threads bounded.

    Short-lived connections only: a reader holding the file does not block publication (a new
    build is swapped in by rename), but it keeps seeing the snapshot it opened.
    """
    path = Path(path)
    if not path.exists():
        raise WarehouseNotFoundError(
            f"no published warehouse at {path}: run `subops build` (or `make demo`) first"
        )
    if memory_limit is None:
        from pipelines.settings import get_settings

        memory_limit = get_settings().sql_memory_limit
    threads = threads or min(MAX_READ_THREADS, os.cpu_count() or 1)
    con = duckdb.connect(
        str(path.resolve()), read_only=True, config=readonly_config(memory_limit, threads)
    )
    try:
        _set_search_path(con)
    except BaseException:
        con.close()
        raise
    return con


def _set_search_path(con: duckdb.DuckDBPyConnection) -> None:
    """`SEARCH_PATH`, minus schemas the file lacks (DuckDB refuses a path naming a missing one).

    `search_path` is a session setting: `lock_configuration` (global settings) leaves it
    settable, so it cannot go in the connect config (DuckDB refuses it there) and a user may
    still change it for their own session. Cursors (`con.cursor()`) start from DuckDB's
    default: use the connection itself."""
    present = {
        r[0]
        for r in con.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
        ).fetchall()
    }
    path = ",".join(s for s in SEARCH_PATH if s in present)
    if path:  # names from the SEARCH_PATH constant, never from a user
        con.execute(f"SET search_path = '{path}'")


def connect(warehouse_dir: Path | str | None = None) -> duckdb.DuckDBPyConnection:
    """The published warehouse for Python and notebooks, as `subops sql` sees it: read-only,
    capped, unqualified names found in marts then audit. Default folder: the
    `warehouse_dir` setting (SUBOPS_WAREHOUSE_DIR, subops.toml, else data/warehouse).

    Close it when done (`with connect() as con:`): an open connection keeps seeing the build it
    opened, not a newer one published since."""
    from pipelines.settings import get_settings

    settings = get_settings(warehouse_dir=Path(warehouse_dir) if warehouse_dir else None)
    return connect_readonly(settings.current_warehouse)


#: PRAGMAs that only describe the database (anything setting a value parses as SET and is refused).
READ_ONLY_PRAGMAS = frozenset(
    {
        "collations",
        "database_list",
        "database_size",
        "functions",
        "metadata_info",
        "platform",
        "show_databases",
        "show_tables",
        "show_tables_expanded",
        "storage_info",
        "table_info",
        "version",
    }
)
ALLOWED_STATEMENTS = (
    "one read-only statement: SELECT (WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE), "
    "EXPLAIN SELECT or PRAGMA table_info/show_tables/database_size/version/…"
)
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_EXPLAIN = re.compile(r"^explain\b(?:\s+analy[sz]e\b)?(?:\s*\([^)]*\))?", re.IGNORECASE)
_PRAGMA = re.compile(r"^pragma\s+(\w+)", re.IGNORECASE)


class QueryRefusedError(ValueError):
    """A `subops sql` query that is not exactly one read-only statement."""


class QueryFailedError(RuntimeError):
    """A read-only query that failed, timed out or ran out of memory (message: one line)."""


def _strip_comments(sql: str) -> str:
    return _LEADING_COMMENTS.sub("", sql, count=1)


def check_read_only(sql: str) -> str:
    """The query if it is exactly one read-only statement, else `QueryRefusedError` saying what
    is allowed. A second line of defence: the connection itself is read-only and locked."""
    statements = duckdb.extract_statements(sql)  # a syntax error raises duckdb.ParserException
    if len(statements) != 1:
        found = "no statement" if not statements else f"{len(statements)} statements"
        raise QueryRefusedError(f"refused: {found}; `subops sql` runs {ALLOWED_STATEMENTS}")
    st = statements[0]
    kind = st.type
    text = _strip_comments(st.query)
    if kind == duckdb.StatementType.SELECT:
        return sql
    if kind == duckdb.StatementType.EXPLAIN:
        m = _EXPLAIN.match(text)
        inner = duckdb.extract_statements(text[m.end() :]) if m else []
        if len(inner) == 1 and inner[0].type == duckdb.StatementType.SELECT:
            return sql
        raise QueryRefusedError(
            f"refused: EXPLAIN of a non-SELECT; `subops sql` runs {ALLOWED_STATEMENTS}"
        )
    if kind == duckdb.StatementType.PRAGMA:
        m = _PRAGMA.match(text)
        if m and m.group(1).lower() in READ_ONLY_PRAGMAS:
            return sql
        name = m.group(1) if m else "?"
        raise QueryRefusedError(f"refused: PRAGMA {name}; `subops sql` runs {ALLOWED_STATEMENTS}")
    raise QueryRefusedError(
        f"refused: a {kind.name} statement; `subops sql` runs {ALLOWED_STATEMENTS}"
    )


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]


def run_read_only_query(
    path: Path, sql: str, *, memory_limit: str, timeout_seconds: float
) -> QueryResult:
    """`subops sql`: one read-only statement on a capped connection, interrupted after
    `timeout_seconds` (from a timer thread: `interrupt()` is safe to call from another thread)."""
    check_read_only(sql)
    con = connect_readonly(path, memory_limit=memory_limit)
    fired = threading.Event()

    def interrupt() -> None:
        fired.set()
        con.interrupt()

    timer = threading.Timer(timeout_seconds, interrupt)
    timer.daemon = True
    try:
        timer.start()
        cur = con.execute(sql)
        columns = [d[0] for d in cur.description or []]
        return QueryResult(columns, cur.fetchall())
    except duckdb.InterruptException as exc:
        if not fired.is_set():
            raise KeyboardInterrupt from exc
        raise QueryFailedError(
            f"the query ran longer than {timeout_seconds:g} s and was interrupted: narrow it "
            "(filters, LIMIT) or raise SUBOPS_SQL_TIMEOUT_SECONDS"
        ) from exc
    except duckdb.OutOfMemoryException as exc:
        raise QueryFailedError(
            f"the query needs more memory than sql_memory_limit ({memory_limit}; nothing spills "
            f"to disk): {_first_line(exc)} — narrow it or raise SUBOPS_SQL_MEMORY_LIMIT"
        ) from exc
    except duckdb.Error as exc:
        raise QueryFailedError(f"query failed: {_first_line(exc)}") from exc
    finally:
        timer.cancel()
        con.close()


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
