"""Spark as the build target (`SUBOPS_TARGET=spark`; docs/engines.md, "Spark").

dbt runs on Spark through dbt-spark in *session* mode: a local PySpark session (Java 17) inside
the dbt process, so the models run on the real Spark SQL engine and planner. Its catalog is a
Hive metastore in embedded Derby under the Spark folder (`SUBOPS_SPARK_DIR`, default
`<warehouse>/spark`), next to the Spark warehouse (the tables' Parquet files).

Embedded Derby admits **one process at a time**: the dbt process opens it, so every other use of
the catalog (registering the raw tables, publishing, discarding) runs in a short child process
(`python -m pipelines.targets.spark <op>`) before or after dbt, never beside it. Readers do not
open the catalog at all: they read the served tables' Parquet files (`read_connection`).

Ship: DuckDB writes each table of the build file that a dbt source reads (`base.shipped_tables`:
the `raw` tables, `quarantine.rows`/`files`, `audit.reference_breaches`) as one Parquet file
(`<spark>/raw/<tag>/<schema>/<table>/data.parquet`; DECIMAL(p,s) stays DECIMAL(p,s), TIMESTAMP
travels as UTC instants and reads back as the same wall time in the session's UTC zone), and the
child process creates `run_<tag>_<schema>.<table> USING parquet LOCATION` over it.
Publish (checks passed): for every layer, `CREATE OR REPLACE VIEW <layer>.<x> AS SELECT * FROM
run_<tag>_<layer>.<x>` — each view switches atomically, but Spark has no transaction spanning
several views, so a reader of the views may see one view of the old run beside one of the new
for the instant of the switch. subops' own readers never do: they follow `published.json`, one
file replaced atomically last, naming the served run and its tables' files. The run published
before stays one generation (readers in flight keep their snapshot); older runs are dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from pipelines.settings import Settings
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

#: the Spark folder (warehouse, metastore, shipped raw files, published.json); default
#: `<warehouse>/spark`. Not a Settings field (pipelines/settings.py is shared): environment only.
SPARK_DIR_ENV = "SUBOPS_SPARK_DIR"
#: the driver's heap (local mode: the whole Spark), e.g. 2g; the machine is shared
DRIVER_MEMORY_ENV = "SUBOPS_SPARK_DRIVER_MEMORY"
DEFAULT_DRIVER_MEMORY = "2g"
#: the reader's (dashboard, `subops sql`) heap: it only scans the served marts
READER_MEMORY = "1g"
#: what a published run's readers follow (replaced atomically, last, by publish)
POINTER = "published.json"
#: the layers readers see (tables with files; staging is views over raw)
READ_LAYERS = ("marts", "semantic")
_JAVA_HINT = (
    "install Java 17 (apt-get install -y openjdk-17-jre-headless) and the spark extra "
    "(uv sync --extra spark, or pip install 'subops[spark]')"
)
_RUN_DB = re.compile(r"^run_([a-z0-9_]+?)_(" + "|".join(RUN_LAYERS) + r")$")


def spark_dir(settings: Settings) -> Path:
    """The Spark folder (absolute: dbt runs in dbt_project/ and Spark resolves paths there)."""
    return Path(os.environ.get(SPARK_DIR_ENV) or settings.warehouse_dir / "spark").resolve()


def spark_conf(folder: Path, driver_memory: str = DEFAULT_DRIVER_MEMORY) -> dict[str, str]:
    """The session's configuration — the same as profiles.yml's `spark` output (a test holds
    them equal): local[2], bounded heap, UTC, few shuffle partitions (the data is small per
    core), metastore and warehouse under `folder`, no UI."""
    return {
        "spark.master": "local[2]",
        "spark.driver.memory": driver_memory,
        "spark.sql.warehouse.dir": f"{folder}/warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={folder}/metastore_db;create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder}",
        "spark.sql.session.timeZone": "UTC",
        # DECIMAL arithmetic typed as on DuckDB: products keep every digit (macros/spark/spark.sql)
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        "spark.sql.shuffle.partitions": "2",
        "spark.ui.enabled": "false",
        # no progress bars on the console: they interleave with dbt's JSON log lines, which
        # dagster-dbt then cannot read (a model's result lost, publication skipped)
        "spark.ui.showConsoleProgress": "false",
        # the loopback address, not the host name (a container's may not resolve)
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }


def spark_env() -> dict[str, str]:
    """Environment every Spark process here needs (a container's hostname may not resolve)."""
    return {"SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")}


def check_java() -> None:
    """Fail with what to install when Java or pyspark is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"the spark target needs pyspark and dbt-spark: {_JAVA_HINT}") from exc
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else None
    if not ((java and java.exists()) or shutil.which("java")):
        raise RuntimeError(
            f"the spark target needs Java (no java on PATH or JAVA_HOME): {_JAVA_HINT}"
        )


def session(conf: dict[str, str], *, hive: bool = True) -> Any:
    """A SparkSession with `conf`: a catalog process (hive) or the reader (in-memory)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("subops")
    for key, value in conf.items():
        builder = builder.config(key, value)
    if hive:
        builder = builder.enableHiveSupport()
    else:
        builder = builder.config("spark.sql.catalogImplementation", "in-memory")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _q(name: str) -> str:
    """A Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def _path_literal(path: Path) -> str:
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


class SparkTarget(EngineTarget):
    name: ClassVar[str] = "spark"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.folder = spark_dir(settings)
        self.driver_memory = os.environ.get(DRIVER_MEMORY_ENV) or DEFAULT_DRIVER_MEMORY

    def describe(self) -> str:
        return f"spark (local session, {self.folder})"

    def conf(self) -> dict[str, str]:
        return spark_conf(self.folder, self.driver_memory)

    def raw_dir(self, run_tag: str) -> Path:
        """Where a run's shipped tables' files are: `<schema>/<table>/data.parquet`."""
        return self.folder / "raw" / check_tag(run_tag)

    # --- dbt -----------------------------------------------------------------------------
    def dbt_env(self, run_tag: str) -> dict[str, str]:
        """profiles.yml's `spark` output reads the folder and heap from the environment."""
        return {
            SPARK_DIR_ENV: str(self.folder),
            DRIVER_MEMORY_ENV: self.driver_memory,
            **spark_env(),
        }

    # --- ship ----------------------------------------------------------------------------
    def ship(self, build_file: Path, run_tag: str) -> dict[str, int]:
        """Each source table → one Parquet file (DuckDB), then `run_<tag>_<schema>` over the
        files (child process). Drops what an earlier attempt of the run, or an unpublished run,
        left."""
        check_java()
        out = self.raw_dir(run_tag)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        counts: dict[str, int] = {}
        with contextlib.closing(duckdb.connect(str(build_file), read_only=True)) as src:
            src.execute("SET TimeZone = 'UTC'")
            tables = shipped_tables(src)
            for (schema, table), columns in tables.items():
                path = out / schema / table / "data.parquet"
                counts[f"{schema}.{table}"] = _write_parquet(src, schema, table, columns, path)
        self._child("register", run_tag=run_tag, raw_dir=str(out), tables=sorted(tables))
        return counts

    # --- tables written outside dbt (renewal risk) --------------------------------------------
    runs_model_steps: ClassVar[bool] = True

    def table_dir(self, run_tag: str, schema: str, table: str) -> Path:
        """Where dbt wrote the run's `<schema>.<table>`: the session's default location of a
        managed table (`<warehouse>/<database>.db/<table>`)."""
        return self.folder / "warehouse" / f"{run_schema(run_tag, schema)}.db" / table

    def read_table(self, run_tag: str, schema: str, table: str, into: Any) -> int:
        """The run's table's Parquet files read by DuckDB straight from the warehouse folder (no
        JVM; the metastore is not opened); timestamps as the UTC wall time."""
        folder = self.table_dir(run_tag, schema, table)
        if not any(folder.glob("*.parquet")):
            raise RuntimeError(
                f"{run_schema(run_tag, schema)}.{table} has no Parquet files in {folder}: the "
                "dbt step did not build it — see the run's dbt log"
            )
        target = f"{duck_quote(schema)}.{duck_quote(table)}"
        into.execute(f"CREATE SCHEMA IF NOT EXISTS {duck_quote(schema)}")
        into.execute(f"CREATE OR REPLACE TABLE {target} AS {parquet_table_select(into, folder)}")
        return int(into.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0])

    def write_tables(self, src: Any, tables: list[tuple[str, str]], run_tag: str) -> dict[str, int]:
        """Each DuckDB table as one Parquet file beside the run's shipped ones, then registered
        in the run's database (child process: dbt has finished, the metastore is free)."""
        counts: dict[str, int] = {}
        registered = []
        src.execute("SET TimeZone = 'UTC'")
        for schema, table in tables:
            path = self.raw_dir(run_tag) / schema / table / "data.parquet"
            shutil.rmtree(path.parent, ignore_errors=True)
            columns = duckdb_columns(src, schema, table)
            counts[f"{schema}.{table}"] = _write_parquet(src, schema, table, columns, path)
            registered.append([run_schema(run_tag, schema), table, str(path.parent)])
        self._child("register_tables", run_tag=run_tag, tables=registered)
        return counts

    # --- publish / discard -------------------------------------------------------------------
    def publish(self, run_tag: str) -> None:
        """Switch every layer's views to the run's tables, then published.json (readers);
        drop the runs before the previous one."""
        check_tag(run_tag)
        self._child("publish", run_tag=run_tag)

    def discard(self, run_tag: str) -> None:
        """Drop the run's databases and shipped files (never the served or previous run's)."""
        check_tag(run_tag)
        if run_tag in self.published_tags():
            raise RuntimeError(
                f"run {run_tag} is published on {self.describe()}: it is not discarded"
            )
        self._child("discard", run_tag=run_tag)
        shutil.rmtree(self.raw_dir(run_tag), ignore_errors=True)

    def pointer(self) -> dict[str, Any] | None:
        """published.json: {run_tag, previous, tables: {layer: {name: Parquet folder}}}; None
        before the first publication."""
        return read_pointer(self.folder)

    def published_tags(self) -> set[str]:
        p = self.pointer() or {}
        return {t for t in (p.get("run_tag"), p.get("previous")) if t}

    # --- read ----------------------------------------------------------------------------------
    def read_connection(self) -> SparkReadConnection:
        """A read-only DB-API-like connection to the served run: an in-process session with an
        in-memory catalog (it never opens the metastore, so it never blocks a build) where
        `marts.<x>` and `semantic.<x>` are the served run's Parquet files and `marts` is the
        current database (unqualified names are marts). Only queries are accepted."""
        check_java()
        pointer = self.pointer()
        if pointer is None:
            raise RuntimeError(
                f"nothing is published on {self.describe()} yet: run `subops build --target spark`"
            )
        conf = {
            **self.conf(),
            "spark.driver.memory": READER_MEMORY,
            # the reader's own (empty) catalog folder, never the builder's warehouse
            "spark.sql.warehouse.dir": f"{self.folder}/reader",
        }
        spark = session(conf, hive=False)
        with _READER_LOCK:
            if _REGISTERED.get(str(self.folder)) != pointer["run_tag"]:
                _register_served(spark, pointer)
                _REGISTERED[str(self.folder)] = pointer["run_tag"]
        return SparkReadConnection(spark)

    def served_tables(self, layer: str = "marts") -> list[str]:
        """The served tables of `layer` (tests, `subops status`)."""
        return sorted(((self.pointer() or {}).get("tables") or {}).get(layer, {}))

    def catalog_sql(self, *sqls: str) -> list[list[list[str | None]]]:
        """Each statement's rows (as text) through the metastore, in one child process — for
        tests and inspection; not while a build of this Spark folder runs (embedded Derby)."""
        return self._child("sql", sqls=list(sqls))["rows"]

    # --- child processes --------------------------------------------------------------------
    def _child(self, op: str, **args: Any) -> dict[str, Any]:
        """Run a catalog operation in its own process (embedded Derby: one process at a time)."""
        payload = json.dumps({"op": op, "folder": str(self.folder), "conf": self.conf(), **args})
        proc = subprocess.run(
            [sys.executable, "-m", "pipelines.targets.spark"],
            input=payload,
            capture_output=True,
            text=True,
            env={**os.environ, **spark_env()},
            check=False,
        )
        if proc.returncode != 0:
            log = self.folder / "logs" / f"{op}-{args.get('run_tag') or 'sql'}.log"
            with contextlib.suppress(OSError):
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text(proc.stdout + proc.stderr)
            tail = _error_line(proc.stderr) or proc.stdout.strip()[-300:]
            raise RuntimeError(
                f"spark {op} of run {args.get('run_tag')} failed: {tail} — if another process "
                f"holds the metastore ({self.folder}/metastore_db: one process at a time), "
                f"retry when it ends; Spark's output: {log}"
            )
        lines = proc.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else {}


class SparkReadConnection:
    """The DB-API subset the dashboard and `subops sql` use, over a SparkSession: read-only
    (temporary views of Parquet files; nothing is written back)."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def cursor(self) -> SparkCursor:
        return SparkCursor(self.spark)

    def execute(self, sql: str) -> SparkCursor:
        cur = self.cursor()
        cur.execute(sql)
        return cur

    def close(self) -> None:
        """The session stays for the next connection (a JVM start costs seconds)."""

    def __enter__(self) -> SparkReadConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SparkCursor:
    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.description: list[tuple[Any, ...]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Any = None) -> SparkCursor:
        if params:
            raise NotImplementedError("the Spark read connection takes no parameters")
        if not _QUERY.match(_strip_comments(sql)):
            raise RuntimeError("the Spark read connection is read-only: one query (SELECT …)")
        df = self.spark.sql(sql)
        self.description = [
            (f.name, f.dataType.simpleString(), None, None, None, None, f.nullable)
            for f in df.schema.fields
        ]
        # through Arrow: timestamps in the session's zone (UTC), not the Python process's
        table = df.toArrow()
        columns = [_naive(c.to_pylist()) for c in table.columns]
        self._rows = list(zip(*columns, strict=True)) if columns else []
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def close(self) -> None:
        self._rows = []


#: the run each Spark folder's served tables are registered for in this process's reader session
_REGISTERED: dict[str, str] = {}
_READER_LOCK = threading.Lock()


def _register_served(spark: Any, pointer: dict[str, Any]) -> None:
    """The reader catalog's `<layer>.<table>` → the served run's files (external tables:
    dropping one never deletes its files)."""
    for layer in READ_LAYERS:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {_q(layer)}")
        served = pointer["tables"].get(layer, {})
        for r in spark.sql(f"SHOW TABLES IN {_q(layer)}").collect():
            if not r["isTemporary"]:
                spark.sql(f"DROP TABLE IF EXISTS {_q(layer)}.{_q(r['tableName'])}")
        for name, location in served.items():
            spark.sql(
                f"CREATE TABLE {_q(layer)}.{_q(name)} USING parquet "
                f"LOCATION {_path_literal(Path(location.removeprefix('file:')))}"
            )
    spark.sql("USE marts")


_QUERY = re.compile(r"^\s*(\(\s*)*(select|with|show|describe|desc|explain|values)\b", re.I)


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)


def _naive(values: list[Any]) -> list[Any]:
    """UTC-aware datetimes → naive UTC ones (DuckDB's TIMESTAMP, what the marts declare)."""
    return [
        v.replace(tzinfo=None) if isinstance(v, dt.datetime) and v.tzinfo is not None else v
        for v in values
    ]


# --- shipping (DuckDB side) -----------------------------------------------------------------


def parquet_select(column: str, duckdb_type: str) -> str:
    """A raw column as written to Parquet: Spark's TIMESTAMP is an instant, so a DuckDB
    TIMESTAMP travels as the UTC instant of its wall time (read back in the UTC session: the
    same wall time); types Spark has no equal for travel as text; the rest as they are."""
    t = duckdb_type.upper()
    if t == "TIMESTAMP":
        return f"timezone('UTC', {duck_quote(column)}) AS {duck_quote(column)}"
    if t in ("UUID", "JSON", "INTERVAL", "TIME") or "[" in t or t.startswith(("STRUCT", "MAP")):
        return f"CAST({duck_quote(column)} AS VARCHAR) AS {duck_quote(column)}"
    return duck_quote(column)


def read_pointer(folder: Path) -> dict[str, Any] | None:
    """A Spark folder's published.json (the served run and its tables' folders), None before
    the first publication: what every reader follows."""
    path = Path(folder) / POINTER
    return json.loads(path.read_text()) if path.exists() else None


def parquet_table_select(con: Any, folder: Path) -> str:
    """DuckDB's SELECT over one Spark table's Parquet files (`folder`), typed as the DuckDB build
    types the table: Spark writes TIMESTAMP as a UTC instant, read back as its UTC wall time."""
    scan = f"read_parquet({_duck_str(str(folder / '*.parquet'))})"
    described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    select = ", ".join(
        f"timezone('UTC', {duck_quote(c)}) AS {duck_quote(c)}"
        if str(t).upper().startswith("TIMESTAMP WITH")
        else duck_quote(c)
        for c, t, *_ in described
    )
    return f"SELECT {select} FROM {scan}"


def _duck_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _write_parquet(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    columns: list[tuple[str, str]],
    path: Path,
) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    source = f"{duck_quote(schema)}.{duck_quote(table)}"
    select = ", ".join(parquet_select(c, t) for c, t in columns)
    con.execute(
        f"COPY (SELECT {select} FROM {source}) "
        f"TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)"
    )
    return int(con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0])


# --- catalog operations (child process) ------------------------------------------------------
def _databases(spark: Any) -> set[str]:
    return {r[0] for r in spark.sql("SHOW DATABASES").collect()}


def _tables(spark: Any, database: str) -> list[tuple[str, bool]]:
    """(name, is a view) of a database's relations (no temporary views)."""
    rows = spark.sql(f"SHOW TABLES IN {_q(database)}").collect()
    out = []
    for r in rows:
        if r["isTemporary"]:
            continue
        kind = spark.sql(f"DESCRIBE TABLE EXTENDED {_q(database)}.{_q(r['tableName'])}").collect()
        is_view = any(x[0] == "Type" and x[1] == "VIEW" for x in kind)
        out.append((r["tableName"], is_view))
    return out


def _location(spark: Any, database: str, table: str) -> str:
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {_q(database)}.{_q(table)}").collect()
    return next(r[1] for r in rows if r[0] == "Location")


def _drop_run(spark: Any, run_tag: str) -> None:
    for layer in RUN_LAYERS:
        spark.sql(f"DROP DATABASE IF EXISTS {_q(run_schema(run_tag, layer))} CASCADE")


def _run_tags(spark: Any) -> set[str]:
    return {m[1] for d in _databases(spark) if (m := _RUN_DB.match(d))}


def _op_register(spark: Any, folder: Path, args: dict[str, Any]) -> dict[str, Any]:
    """`run_<tag>_<schema>` (raw, quarantine, audit) over the shipped files; first drop this
    run's databases and every run's that is neither published nor the previous one (orphans:
    one writer at a time)."""
    tag = args["run_tag"]
    keep = _published(folder)
    for other in _run_tags(spark) - keep:
        _drop_run(spark, other)
    for schema in LOADER_SCHEMAS:
        # every loader schema, even one no source reads: publication switches them all
        spark.sql(f"CREATE DATABASE {_q(run_schema(tag, schema))}")
    for schema, table in args["tables"]:
        location = Path(args["raw_dir"]) / schema / table
        spark.sql(
            f"CREATE TABLE {_q(run_schema(tag, schema))}.{_q(table)} USING parquet "
            f"LOCATION {_path_literal(location)}"
        )
    return {"tables": len(args["tables"])}


def _op_register_tables(spark: Any, folder: Path, args: dict[str, Any]) -> dict[str, Any]:
    """Tables written outside dbt (renewal risk) into a run's database, over their files."""
    for database, table, location in args["tables"]:
        spark.sql(f"DROP TABLE IF EXISTS {_q(database)}.{_q(table)}")
        spark.sql(
            f"CREATE TABLE {_q(database)}.{_q(table)} USING parquet "
            f"LOCATION {_path_literal(Path(location))}"
        )
    return {"tables": len(args["tables"])}


def _published(folder: Path) -> set[str]:
    path = folder / POINTER
    p = json.loads(path.read_text()) if path.exists() else {}
    return {t for t in (p.get("run_tag"), p.get("previous")) if t}


def _op_publish(spark: Any, folder: Path, args: dict[str, Any]) -> dict[str, Any]:
    tag = args["run_tag"]
    present = _databases(spark)
    missing = [run_schema(tag, x) for x in RUN_LAYERS if run_schema(tag, x) not in present]
    if missing:
        raise RuntimeError(
            f"cannot publish run {tag}: database(s) {missing} are missing (dropped by another "
            "build?) — rebuild"
        )
    tables: dict[str, dict[str, str]] = {layer: {} for layer in READ_LAYERS}
    for layer in RUN_LAYERS:
        source = run_schema(tag, layer)
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {_q(layer)}")
        relations = _tables(spark, source)
        names = {name for name, _ in relations}
        for name, is_view in relations:
            spark.sql(
                f"CREATE OR REPLACE VIEW {_q(layer)}.{_q(name)} AS "
                f"SELECT * FROM {_q(source)}.{_q(name)}"
            )
            if layer in READ_LAYERS and not is_view:
                tables[layer][name] = _location(spark, source, name)
        for name, _ in _tables(spark, layer):
            if name not in names:  # a model removed since: its view would read a dropped run
                spark.sql(f"DROP VIEW IF EXISTS {_q(layer)}.{_q(name)}")
    path = folder / POINTER
    old = json.loads(path.read_text()) if path.exists() else {}
    previous = old.get("run_tag") if old.get("run_tag") != tag else old.get("previous")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"run_tag": tag, "previous": previous, "tables": tables}, indent=1))
    os.replace(tmp, path)
    for other in _run_tags(spark) - {tag, previous}:
        _drop_run(spark, other)
        shutil.rmtree(folder / "raw" / other, ignore_errors=True)
    return {"tables": sum(len(t) for t in tables.values())}


def _op_discard(spark: Any, folder: Path, args: dict[str, Any]) -> dict[str, Any]:
    tag = args["run_tag"]
    if tag in _published(folder):
        raise RuntimeError(f"run {tag} is published: it is not discarded")
    _drop_run(spark, tag)
    return {}


def _op_sql(spark: Any, folder: Path, args: dict[str, Any]) -> dict[str, Any]:
    """Rows of each statement of `sqls` through the metastore (tests and by hand; never beside
    a build: `SparkTarget.catalog_sql`)."""
    out = []
    for sql in args["sqls"]:
        rows = spark.sql(sql).collect()
        out.append([[None if v is None else str(v) for v in r] for r in rows])
    return {"rows": out}


_OPS = {
    "register": _op_register,
    "register_tables": _op_register_tables,
    "publish": _op_publish,
    "discard": _op_discard,
    "sql": _op_sql,
}


def _error_line(stderr: str) -> str:
    """The last exception line of a child's stderr (Python or Spark)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^[\w.]+(Error|Exception)\b", ln)]
    return ((errors or lines or [""])[-1])[:400]


def main() -> int:
    """Child process: one catalog operation, its input as JSON on stdin, result JSON on the
    last line of stdout."""
    args = json.loads(sys.stdin.read())
    folder = Path(args["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    spark = session(args["conf"])
    try:
        result = _OPS[args["op"]](spark, folder, args)
    finally:
        spark.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
