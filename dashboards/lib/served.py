"""The dashboard over a server target's served marts (`SUBOPS_DASHBOARD_TARGET=postgres|spark`).

By default the dashboard reads the published DuckDB file. When the marts are built and served by
PostgreSQL (docs/engines.md), it can read them there instead, as the read-only role
(`PostgresTarget.read_connection`: read-only transactions, SELECT grants only), every value a
bound parameter. What stays in the published DuckDB file — the audit trail (`audit.runs`,
`build_info`, `load_log`, `check_results`) and the quarantine — is still read from it: a
statement goes to PostgreSQL when it reads a `"marts".` relation, to the DuckDB file otherwise
(`route`). The query modules keep one SQL text; the few DuckDB spellings they use are rewritten
for PostgreSQL by `to_postgres` (the dialect helper), and results come back as the DuckDB path
gives them (Arrow → pandas: Decimal stays Decimal, DATE stays date).

On Spark (`ServedParquet`) the dashboard starts no JVM: the served run's tables are Parquet
files that `<spark>/published.json` names, so an in-memory DuckDB reads them — `marts.<x>` and
`semantic.<x>` are views over the files, the audit trail and the quarantine views over the
published file attached read-only — and the page SQL runs unchanged on one connection.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.targets.base import duck_quote
from pipelines.warehouse.readonly import MAX_READ_THREADS

#: a query is cancelled by the server after this long (a dashboard query is small)
STATEMENT_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class ServedMarts:
    """Where the dashboard reads on a server target: its served marts (the connection settings
    of the read-only role; the password comes from the environment) and the published DuckDB
    file for the audit trail. Hashable: it is part of the query cache's key."""

    build_file: Path
    target: str
    host: str
    port: int
    dbname: str
    reader_user: str

    @classmethod
    def from_settings(cls, settings: Any, build_file: Path) -> ServedMarts:
        return cls(
            Path(build_file),
            settings.dashboard_target,
            settings.pg_host,
            settings.pg_port,
            settings.pg_dbname,
            settings.pg_reader_user,
        )

    def read_connection(self) -> Any:
        """A psycopg connection as the read-only role (PostgresTarget's, so the checks and the
        messages are the same as `subops sql`'s)."""
        from pipelines.settings import get_settings
        from pipelines.targets import get_target

        settings = get_settings(
            target=self.target,
            pg_host=self.host,
            pg_port=self.port,
            pg_dbname=self.dbname,
            pg_reader_user=self.reader_user,
        )
        return get_target(settings).read_connection()

    def describe(self) -> str:
        return f"{self.target} ({self.reader_user}@{self.host}:{self.port}/{self.dbname})"


# --- the dialect helper ------------------------------------------------------------------------

#: DuckDB spellings of the query modules → PostgreSQL's (one place; tests/engines check them)
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    # membership in a bound list: list_contains(?::VARCHAR[], x) → x = ANY(?::VARCHAR[])
    (
        re.compile(r"list_contains\(\s*(\?::VARCHAR\[\])\s*,\s*([\w.\"]+)\s*\)", re.I),
        r"\2 = ANY(\1)",
    ),
    (re.compile(r"\blist_position\(", re.I), "array_position("),
    # any value of the group: PostgreSQL 16 has any_value, 15 not; min is one of them
    (re.compile(r"\bany_value\(", re.I), "min("),
)
_LITERAL_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?")


def to_postgres(sql: str) -> str:
    """A dashboard statement (DuckDB spelling, `?` parameters) in PostgreSQL's: the rewrites
    above, `%` doubled and `?` outside string literals → `%s` (psycopg's parameters)."""
    for pattern, repl in _REWRITES:
        sql = pattern.sub(repl, sql)
    sql = sql.replace("%", "%%")
    return _LITERAL_OR_MARK.sub(lambda m: "%s" if m.group(0) == "?" else m.group(0), sql)


def _plain(value: Any) -> Any:
    """numpy / pandas scalars (a value picked from a DataFrame) → Python's, for psycopg."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes | dt.date):
        return value.item()
    return value


_MARTS = re.compile(r'"marts"\s*\.')


def route(sql: str) -> str:
    """`postgres` for a statement reading a served mart, `duckdb` for one reading only the audit
    trail or the quarantine (they stay in the published DuckDB file), `both` for the catalogue."""
    if "information_schema" in sql:
        return "both"
    return "postgres" if _MARTS.search(sql) else "duckdb"


def frame(columns: list[str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows → a DataFrame typed as DuckDB's Arrow → pandas path types them (ints with NULLs as
    floats, Decimal and date objects, datetime64 timestamps)."""
    arrays = {}
    for i, name in enumerate(columns):
        values = [r[i] for r in rows]
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[name] = pa.array([None if v is None else str(v) for v in values])
    if not columns:
        return pd.DataFrame()
    return pa.table(arrays).to_pandas()


class ServedConnection:
    """One batch of dashboard statements: PostgreSQL for the marts, the DuckDB file's cursor for
    the audit trail (`queries.fetch` calls `fetch`)."""

    def __init__(self, pg: Any, duck: Any) -> None:
        self.pg = pg
        self.duck = duck
        with pg.cursor() as cur:
            cur.execute(
                "SELECT set_config('statement_timeout', %s, false)", (str(STATEMENT_TIMEOUT_MS),)
            )

    def _pg(self, sql: str, params: Sequence[Any]) -> pd.DataFrame:
        with self.pg.cursor() as cur:
            cur.execute(to_postgres(sql), [_plain(p) for p in params])
            columns = [d.name for d in cur.description or []]
            return frame(columns, cur.fetchall())

    def _duck(self, sql: str, params: Sequence[Any]) -> pd.DataFrame:
        return self.duck.sql(sql, params=list(params)).to_arrow_table().to_pandas()

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        where = route(sql)
        if where == "postgres":
            return self._pg(sql, params)
        if where == "duckdb":
            return self._duck(sql, params)
        # the catalogue: the marts as PostgreSQL serves them, the rest from the DuckDB file
        pg, duck = self._pg(sql, params), self._duck(sql, params)
        if "table_schema" in pg.columns:
            pg = pg[pg["table_schema"] == "marts"]
            duck = duck[duck["table_schema"] != "marts"]
            out = pd.concat([pg, duck], ignore_index=True)
            return out.sort_values(list(out.columns[:2])).reset_index(drop=True)
        return pg if "marts" in [_plain(p) for p in params] else duck

    def close(self) -> None:
        self.pg.close()


# --- Spark: the served run's Parquet files, read by DuckDB ---------------------------------------

#: the published file's schemas the dashboard reads beside the marts (what stays in DuckDB)
_FILE_SCHEMAS = ("audit", "quarantine")
#: the served layers read from Spark's files
_SPARK_LAYERS = ("marts", "semantic")


@dataclass(frozen=True)
class ServedParquet:
    """Where the dashboard reads on a Spark target: the Spark folder, the run its
    `published.json` serves (so a publication changes the query cache's key), and the
    published DuckDB file for the audit trail. Hashable, like `ServedMarts`."""

    build_file: Path
    folder: Path
    run_tag: str

    @classmethod
    def from_settings(cls, settings: Any, build_file: Path) -> ServedParquet:
        from pipelines.targets.spark import read_pointer, spark_dir

        folder = spark_dir(settings)
        return cls(Path(build_file), folder, str((read_pointer(folder) or {}).get("run_tag", "")))

    def describe(self) -> str:
        return f"spark (run {self.run_tag or 'none published'}, {self.folder})"

    def connect(self, memory_limit: str) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB over the served run: views of its Parquet folders and of the
        published file's audit trail. Only those folders are readable (`allowed_directories`),
        then external access is off and the configuration locked, as `connect_readonly` does;
        nothing spills to disk. The page SQL is fixed text: no user statement runs here."""
        from pipelines.targets.spark import parquet_table_select, read_pointer

        pointer = read_pointer(self.folder)
        if pointer is None or pointer.get("run_tag") != self.run_tag:
            raise RuntimeError(
                f"the run served on spark ({self.folder}) is not {self.run_tag or 'published'}"
                " any more: reload the page (a build published a newer run)"
            )
        folders = {
            layer: {
                name: Path(str(location).removeprefix("file:"))
                for name, location in (pointer.get("tables") or {}).get(layer, {}).items()
            }
            for layer in _SPARK_LAYERS
        }
        con = duckdb.connect(
            ":memory:",
            config={
                "autoload_known_extensions": False,
                "autoinstall_known_extensions": False,
                "temp_directory": "",
                "max_temp_directory_size": "0B",
                "memory_limit": memory_limit,
                "threads": MAX_READ_THREADS,
            },
        )
        try:
            readable = sorted({f"{p}/" for tables in folders.values() for p in tables.values()})
            con.execute("SET allowed_directories = ?", [readable])
            published = str(self.build_file).replace("'", "''")
            con.execute(f"ATTACH '{published}' AS published (READ_ONLY)")
            for schema in _FILE_SCHEMAS:
                con.execute(f"CREATE SCHEMA {duck_quote(schema)}")
                for (table,) in con.execute(
                    "SELECT table_name FROM duckdb_tables() "
                    "WHERE database_name = 'published' AND schema_name = ?",
                    [schema],
                ).fetchall():
                    name = f"{duck_quote(schema)}.{duck_quote(table)}"
                    con.execute(f"CREATE VIEW {name} AS SELECT * FROM published.{name}")
            for layer, tables in folders.items():
                con.execute(f"CREATE SCHEMA {duck_quote(layer)}")
                for table, folder in sorted(tables.items()):
                    if any(folder.glob("*.parquet")):
                        name = f"{duck_quote(layer)}.{duck_quote(table)}"
                        con.execute(f"CREATE VIEW {name} AS {parquet_table_select(con, folder)}")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        return con
