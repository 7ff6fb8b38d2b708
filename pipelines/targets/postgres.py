"""PostgreSQL as the build target (`SUBOPS_TARGET=postgres`; docs/engines.md).

Ship: each table of the DuckDB build file that a dbt source reads (`base.shipped_tables`: the
`raw` tables, `quarantine.rows`/`files`, `audit.reference_breaches`) is written by DuckDB to a
temporary CSV file (every value quoted, NULL unquoted and empty: PostgreSQL's CSV tells them
apart) and streamed into `run_<tag>_<schema>` with `COPY … FROM STDIN` through psycopg — one
transaction per run.
Publish: one transaction renames the served schemas away (`marts` → `old_<tag>_marts`, …) and
the run's to the served names (`run_<tag>_marts` → `marts`, …), grants the read-only role
SELECT on them, commits, then drops the old ones. Views follow a rename (PostgreSQL binds them
to objects, not names), so the served staging views read the served raw tables. Readers see the
previous schemas until the commit and the new ones after; a run whose checks failed never
reaches `publish`, and its schemas are dropped (`discard`).

The passwords come from the environment only: SUBOPS_PG_PASSWORD (builder) and
SUBOPS_PG_READER_PASSWORD (read-only role), else libpq's own PGPASSWORD / ~/.pgpass.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import psycopg
from psycopg import sql

from pipelines.targets.base import (
    LOADER_SCHEMAS,
    RUN_LAYERS,
    EngineTarget,
    check_tag,
    duck_quote,
    duckdb_columns,
    run_schema,
    shipped_tables,
)

PASSWORD_ENV = "SUBOPS_PG_PASSWORD"
READER_PASSWORD_ENV = "SUBOPS_PG_READER_PASSWORD"
#: served schemas searched for an unqualified name by the read-only connection
READ_SEARCH_PATH = ("marts",)
_CHUNK = 1 << 20

_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_SIMPLE_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BOOLEAN": "boolean",
}


_PG_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")
_DUCK_TYPES = {
    "text": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
}


def duck_type(pg_format_type: str) -> str:
    """A PostgreSQL column type (`format_type`) → the DuckDB type holding the same values
    (reading a table back: renewal risk's features); other types as VARCHAR."""
    t = pg_format_type.lower()
    if m := _PG_NUMERIC.match(t):
        return f"DECIMAL({m[1]},{m[2]})"
    if t == "numeric":  # no declared precision: what dbt writes for an uncast sum
        return "DECIMAL(38,10)"
    if t.startswith("character varying") or t.startswith("character("):
        return "VARCHAR"
    return _DUCK_TYPES.get(t, "VARCHAR")


def pg_type(duckdb_type: str) -> str:
    """A raw column's DuckDB type → the PostgreSQL type holding the same values (other types,
    e.g. JSON or structs, travel as text)."""
    t = duckdb_type.upper()
    if m := _DECIMAL.match(t):
        return f"numeric({m[1]},{m[2]})"
    return _SIMPLE_TYPES.get(t, "text")


class PostgresTarget(EngineTarget):
    name: ClassVar[str] = "postgres"

    # --- connections ---------------------------------------------------------------------
    def _conninfo(self, user: str, password_env: str) -> dict[str, Any]:
        s = self.settings
        info: dict[str, Any] = {
            "host": s.pg_host,
            "port": s.pg_port,
            "user": user,
            "dbname": s.pg_dbname,
            "application_name": "subops",
        }
        if os.environ.get(password_env):
            info["password"] = os.environ[password_env]
        return info

    def connect(self) -> psycopg.Connection:
        """The builder's connection (creates schemas, copies, publishes)."""
        try:
            return psycopg.connect(**self._conninfo(self.settings.pg_user, PASSWORD_ENV))
        except psycopg.OperationalError as exc:
            raise RuntimeError(
                f"cannot connect to PostgreSQL as {self.describe()}: {_first_line(exc)} — check "
                f"SUBOPS_PG_HOST/PORT/USER/DBNAME and {PASSWORD_ENV}"
            ) from exc

    def read_connection(self) -> psycopg.Connection:
        """The read-only role's connection: read-only transactions, `marts` first on the path."""
        info = self._conninfo(self.settings.pg_reader_user, READER_PASSWORD_ENV)
        info["options"] = (
            f"-c default_transaction_read_only=on -c search_path={','.join(READ_SEARCH_PATH)}"
        )
        try:
            return psycopg.connect(**info)
        except psycopg.OperationalError as exc:
            raise RuntimeError(
                f"cannot connect to PostgreSQL as the read-only role "
                f"{self.settings.pg_reader_user}: {_first_line(exc)} — check "
                f"SUBOPS_PG_READER_USER and {READER_PASSWORD_ENV}"
            ) from exc

    def query(self, sql: str, timeout_seconds: float) -> tuple[list[str], list[tuple]]:
        """One statement as the read-only role, cancelled by the server after the timeout."""
        with self.read_connection() as con, con.cursor() as cur:
            cur.execute(
                "SELECT set_config('statement_timeout', %s, false)",
                (str(int(timeout_seconds * 1000)),),
            )
            try:
                cur.execute(sql.encode())
            except psycopg.errors.QueryCanceled as exc:
                raise RuntimeError(
                    f"the query ran longer than {timeout_seconds:g} s and was cancelled: narrow "
                    "it (filters, LIMIT) or raise SUBOPS_SQL_TIMEOUT_SECONDS"
                ) from exc
            except psycopg.Error as exc:
                raise RuntimeError(f"query failed: {_first_line(exc)}") from exc
            columns = [d.name for d in cur.description or []]
            return columns, [tuple(r) for r in cur.fetchall()]

    def describe(self) -> str:
        s = self.settings
        return f"postgres ({s.pg_user}@{s.pg_host}:{s.pg_port}/{s.pg_dbname})"

    def dbt_vars(self, run_tag: str) -> dict[str, str]:
        s = self.settings
        return {
            **super().dbt_vars(run_tag),
            "pg_host": s.pg_host,
            "pg_port": str(s.pg_port),
            "pg_user": s.pg_user,
            "pg_dbname": s.pg_dbname,
        }

    # --- ship ----------------------------------------------------------------------------
    def ship(self, build_file: Path, run_tag: str) -> dict[str, int]:
        """Copy the build file's source tables into `run_<tag>_<schema>` (dropping the run's
        schemas, and any other unpublished run's, first: one writer at a time, so they are
        orphans)."""
        counts: dict[str, int] = {}
        with (
            contextlib.closing(duckdb.connect(str(build_file), read_only=True)) as src,
            tempfile.TemporaryDirectory(prefix="subops-ship-") as tmp,
            self.connect() as pg,
        ):
            self._drop_run_schemas(pg, None)
            self._ensure_reader(pg)
            tables = shipped_tables(src)
            for schema in LOADER_SCHEMAS:  # all of them: publication switches them all
                pg.execute(
                    sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(run_schema(run_tag, schema)))
                )
            for (schema, table), columns in tables.items():
                counts[f"{schema}.{table}"] = self._copy_table(
                    src, pg, schema, run_schema(run_tag, schema), table, columns, Path(tmp)
                )
            pg.commit()
        return counts

    def _copy_table(
        self,
        src: duckdb.DuckDBPyConnection,
        pg: psycopg.Connection,
        src_schema: str,
        schema: str,
        table: str,
        columns: list[tuple[str, str]],
        tmp: Path,
    ) -> int:
        target = sql.Identifier(schema, table)
        pg.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                target,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(pg_type(t)))
                    for c, t in columns
                ),
            )
        )
        csv = tmp / f"{src_schema}.{table}.csv"
        source = f"{duck_quote(src_schema)}.{duck_quote(table)}"
        # types PostgreSQL gets as text travel in DuckDB's own text form, without NUL
        # characters (PostgreSQL's text cannot hold them; a quarantined raw record might)
        select = ", ".join(
            f"replace(CAST({duck_quote(c)} AS VARCHAR), chr(0), '')"
            if pg_type(t) == "text"
            else duck_quote(c)
            for c, t in columns
        )
        src.execute(
            f"COPY (SELECT {select} FROM {source}) TO "
            f"'{_sql_str(str(csv))}' (FORMAT csv, HEADER false, FORCE_QUOTE *, NULLSTR '')"
        )
        copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            target, sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
        )
        with pg.cursor() as cur, cur.copy(copy) as cp, csv.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                cp.write(chunk)
        csv.unlink()
        return int(src.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0])

    # --- tables written outside dbt (renewal risk) --------------------------------------------
    runs_model_steps: ClassVar[bool] = True

    def read_table(self, run_tag: str, schema: str, table: str, into: Any) -> int:
        """`COPY … TO STDOUT` of the run's table into a temporary CSV file that DuckDB loads
        into a table of the same columns and matching types (quoted empty strings stay
        strings, unquoted empties are NULL)."""
        source = run_schema(run_tag, schema)
        with tempfile.TemporaryDirectory(prefix="subops-read-") as tmp, self.connect() as pg:
            columns = pg.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 "
                "AND NOT a.attisdropped ORDER BY a.attnum",
                (source, table),
            ).fetchall()
            if not columns:
                raise RuntimeError(
                    f"{source}.{table} does not exist on {self.describe()}: the dbt step did not "
                    "build it — see the run's dbt log"
                )
            csv = Path(tmp) / "table.csv"
            copy = sql.SQL("COPY {} TO STDOUT (FORMAT csv)").format(sql.Identifier(source, table))
            with pg.cursor() as cur, cur.copy(copy) as cp, csv.open("wb") as fh:
                for chunk in cp:
                    fh.write(chunk)
            target = f"{duck_quote(schema)}.{duck_quote(table)}"
            into.execute(f"CREATE SCHEMA IF NOT EXISTS {duck_quote(schema)}")
            ddl = ", ".join(f"{duck_quote(c)} {duck_type(t)}" for c, t in columns)
            into.execute(f"CREATE OR REPLACE TABLE {target} ({ddl})")
            into.execute(
                f"COPY {target} FROM '{_sql_str(str(csv))}' "
                "(FORMAT csv, HEADER false, ALLOW_QUOTED_NULLS false)"
            )
            return int(into.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0])

    def write_tables(self, src: Any, tables: list[tuple[str, str]], run_tag: str) -> dict[str, int]:
        """Each DuckDB table into the run's schema (dropped first), by COPY, in one
        transaction; the publication's grants cover them."""
        counts: dict[str, int] = {}
        with tempfile.TemporaryDirectory(prefix="subops-write-") as tmp, self.connect() as pg:
            for schema, table in tables:
                target = run_schema(run_tag, schema)
                pg.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(target, table)))
                counts[f"{schema}.{table}"] = self._copy_table(
                    src, pg, schema, target, table, duckdb_columns(src, schema, table), Path(tmp)
                )
            pg.commit()
        return counts

    # --- publish / discard -------------------------------------------------------------------
    def publish(self, run_tag: str) -> None:
        """In one transaction: served → `old_<tag>_<layer>`, run's → served, reader grants;
        then drop the old schemas."""
        check_tag(run_tag)
        reader = sql.Identifier(self.settings.pg_reader_user)
        with self.connect() as pg:
            present = _schemas(pg)
            missing = [
                run_schema(run_tag, x) for x in RUN_LAYERS if run_schema(run_tag, x) not in present
            ]
            if missing:
                raise RuntimeError(
                    f"cannot publish run {run_tag} on {self.describe()}: schema(s) {missing} "
                    "are missing (dropped by another build?) — rebuild"
                )
            # one writer: wait for, then block, any other publication until commit
            pg.execute("SELECT pg_advisory_xact_lock(hashtext('subops publish'))")
            for layer in RUN_LAYERS:
                if layer in present:
                    pg.execute(
                        sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                            sql.Identifier(layer), sql.Identifier(_old_schema(run_tag, layer))
                        )
                    )
                pg.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(run_schema(run_tag, layer)), sql.Identifier(layer)
                    )
                )
                if self._has_role(pg, self.settings.pg_reader_user):
                    layer_id = sql.Identifier(layer)
                    pg.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(layer_id, reader))
                    pg.execute(
                        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                            layer_id, reader
                        )
                    )
            pg.commit()
            for layer in RUN_LAYERS:
                pg.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(_old_schema(run_tag, layer))
                    )
                )
            pg.commit()

    def discard(self, run_tag: str) -> None:
        with self.connect() as pg:
            self._drop_run_schemas(pg, run_tag)
            pg.commit()

    def served_schemas(self) -> list[str]:
        """The published schemas present now (tests, `subops status`)."""
        with self.connect() as pg:
            return [s for s in RUN_LAYERS if s in _schemas(pg)]

    @staticmethod
    def _drop_run_schemas(pg: psycopg.Connection, run_tag: str | None) -> None:
        """Drop one run's schemas, or (None) every unpublished run's and stale old ones."""
        pattern = f"run_{check_tag(run_tag)}_%" if run_tag else "run\\_%"
        names = [s for s in _schemas(pg) if _like(s, pattern)]
        if run_tag is None:
            names += [s for s in _schemas(pg) if s.startswith("old_")]
        for name in names:
            pg.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))

    @staticmethod
    def _has_role(pg: psycopg.Connection, role: str) -> bool:
        return bool(pg.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchall())

    def _ensure_reader(self, pg: psycopg.Connection) -> None:
        """Create the read-only role if it is missing (needs CREATEROLE; else an admin creates
        it: docs/engines.md). It may only read, in read-only transactions."""
        role = self.settings.pg_reader_user
        if self._has_role(pg, role):
            return
        password = os.environ.get(READER_PASSWORD_ENV)
        try:
            with pg.transaction():
                pg.execute(
                    sql.SQL("CREATE ROLE {} LOGIN{}").format(
                        sql.Identifier(role),
                        sql.SQL(" PASSWORD {}").format(sql.Literal(password))
                        if password
                        else sql.SQL(""),
                    )
                )
                pg.execute(
                    sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(
                        sql.Identifier(role)
                    )
                )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise RuntimeError(
                f"the read-only role {role} does not exist and {self.settings.pg_user} may not "
                f"create it: create it as an admin (docs/engines.md) or set SUBOPS_PG_READER_USER"
            ) from exc


def _schemas(pg: psycopg.Connection) -> set[str]:
    return {r[0] for r in pg.execute("SELECT nspname FROM pg_namespace").fetchall()}


def _like(name: str, pattern: str) -> bool:
    prefix = pattern.replace("\\", "").rstrip("%")
    return name.startswith(prefix)


def _old_schema(run_tag: str, layer: str) -> str:
    return f"old_{run_tag}_{layer}"


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]
