"""The engine a build's dbt models run on: the contract every target implements.

A build always starts in DuckDB: the loader validates the landing folder's extracts into this
run's *build file* (`raw`, `quarantine`, `audit` schemas), exactly as with the default target.
A **server target** (PostgreSQL, Spark) then takes over for dbt:

1. ``ship(build_file, run_tag)`` copies the tables dbt reads from the build file into the engine,
   under the run's own schema set: every table of DuckDB schema ``raw`` (named
   ``<source>__<table>``, the dbt sources; `RAW_SCHEMA`) into schema ``run_schema(run_tag, "raw")``
   with the same table and column names and types that hold the same values (DECIMAL stays
   DECIMAL with its precision and scale, DATE, TIMESTAMP, BOOLEAN, BIGINT, VARCHAR; `_extra` is
   text). dbt reads nothing else from the build file today (no seeds; the dbt sources yml,
   rendered by `pipelines/contract/dbt_sources.py`, name only schema ``raw``). `ship` first drops
   whatever a previous attempt with the same tag left behind, so it can be re-run.
2. ``dbt_args(run_tag)`` → the extra dbt CLI arguments: ``["--target", "<profile output>"]``
   (the outputs of `dbt_project/profiles.yml`); ``dbt_vars(run_tag)`` → extra ``--vars`` merged
   into the build's vars: at least ``{"schema_prefix": run_prefix(run_tag)}``, which makes every
   dbt schema (sources' ``raw`` included: the sources yml reads the var) ``<prefix><layer>``, e.g.
   ``run_1a2b3c4d_marts``; plus connection details that are not secret. ``dbt_env(run_tag)`` →
   environment variables dbt needs (set around the dbt invocation; the process's own environment
   is inherited anyway, so secrets already exported there need not be repeated).
3. dbt builds there (same models, data tests: they block publication). The dbt step records the
   test results into the DuckDB build file's audit trail, as for DuckDB.
4. ``publish(run_tag)``, reached only when every check passed, makes the run's schemas the served
   ones atomically (readers see the old marts or the new, never a mix): the run's
   ``<prefix><layer>`` become ``<layer>`` (``marts``, ``staging``, …) and the previous ones are
   dropped after the switch. ``discard(run_tag)`` drops the run's schemas (a failed build, or a
   test); it never touches the served ones. Both are idempotent.
5. ``read_connection()`` → a DB-API connection to the *served* schemas, read-only (a role that
   may only select, or a read-only session), unqualified names resolving to ``marts``; `query()`
   (`subops sql`) runs one statement through it by default.

The DuckDB build file is still published as ``current.duckdb`` after the target's publication:
it carries the audit trail and the load log (what the next incremental load skips). The DuckDB
target is a no-op: its `ship`/`publish` do nothing and the build file *is* the warehouse.

Adding a target: subclass `EngineTarget` in ``pipelines/targets/<name>.py`` with a constructor
taking `Settings`, and register it in `pipelines.targets.TARGETS` (imported lazily, so an
engine's client libraries are needed only when it is chosen).
"""

from __future__ import annotations

import abc
import re
from pathlib import Path
from typing import Any, ClassVar

from pipelines.settings import Settings

#: The DuckDB schema whose tables are the dbt sources (shipped to a server target).
RAW_SCHEMA = "raw"
#: The schemas dbt builds (`dbt_project.yml` `+schema:`), besides the shipped `raw`. A target
#: publishes `raw` and these together (the staging views read the run's raw tables).
DBT_SCHEMAS = ("staging", "intermediate", "marts", "semantic")
#: Every schema of a run on a server target, in the order they are switched.
RUN_LAYERS = (RAW_SCHEMA, *DBT_SCHEMAS)
#: The dbt var carrying a run's schema prefix (profiles/sources/generate_schema_name read it).
SCHEMA_PREFIX_VAR = "schema_prefix"

_TAG = re.compile(r"^[a-z0-9_]{1,32}$")


def check_tag(run_tag: str) -> str:
    """A run tag is part of SQL identifiers: lower-case letters, digits and `_` only."""
    if not _TAG.match(run_tag):
        raise ValueError(
            f"run tag {run_tag!r} is not a valid schema name part: use [a-z0-9_], at most 32 chars"
        )
    return run_tag


def run_tag_for(run_id: str) -> str:
    """A Dagster run id (uuid) → the run's tag: its first 8 hex digits (like the build files)."""
    return check_tag(run_id.replace("-", "")[:8].lower())


def run_prefix(run_tag: str) -> str:
    """`run_<tag>_`: the prefix of a run's schemas before publication."""
    return f"run_{check_tag(run_tag)}_"


def run_schema(run_tag: str, layer: str) -> str:
    """`run_<tag>_<layer>`: where a run builds `layer` before publication."""
    return run_prefix(run_tag) + layer


class EngineTarget(abc.ABC):
    """Where a build's dbt models run and its marts are served (module docstring: the contract)."""

    #: the `SUBOPS_TARGET` value and the output name in profiles.yml
    name: ClassVar[str]
    #: False for DuckDB: the build file is the warehouse; nothing is shipped or switched
    is_server: ClassVar[bool] = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abc.abstractmethod
    def ship(self, build_file: Path, run_tag: str) -> dict[str, int]:
        """Copy the build file's `raw` tables into the run's raw schema; {table: rows}."""

    def dbt_args(self, run_tag: str) -> list[str]:
        """Extra `dbt` CLI arguments (the profile output)."""
        return ["--target", self.name]

    def dbt_vars(self, run_tag: str) -> dict[str, str]:
        """Extra `--vars` (the run's schema prefix, non-secret connection details)."""
        return {SCHEMA_PREFIX_VAR: run_prefix(run_tag)}

    def dbt_env(self, run_tag: str) -> dict[str, str]:
        """Extra environment variables of the dbt invocation."""
        return {}

    @abc.abstractmethod
    def publish(self, run_tag: str) -> None:
        """Atomically serve the run's schemas under the published names; drop the old ones."""

    @abc.abstractmethod
    def discard(self, run_tag: str) -> None:
        """Drop the run's schemas (never the served ones); idempotent."""

    @abc.abstractmethod
    def read_connection(self) -> Any:
        """A read-only DB-API connection whose unqualified names are the served marts."""

    def describe(self) -> str:
        """One line naming where the marts are served (for messages and `subops status`)."""
        return self.name

    def query(self, sql: str, timeout_seconds: float) -> tuple[list[str], list[tuple]]:
        """`subops sql` on the served marts: (columns, rows) of one read-only statement through
        `read_connection()`. Targets that can bound a statement's time override this."""
        con = self.read_connection()
        try:
            cur = con.cursor()
            cur.execute(sql)
            return [d[0] for d in cur.description or []], [tuple(r) for r in cur.fetchall()]
        finally:
            con.close()


def duck_quote(name: str) -> str:
    """A DuckDB identifier, quoted (the shippers read the build file's raw tables by name)."""
    return '"' + name.replace('"', '""') + '"'


def raw_tables(con: Any) -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, DuckDB type)]} of the build file's `raw` schema, in column order: what
    every server target ships (`con` is a DuckDB connection to the build file)."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = $s ORDER BY table_name, column_index",
        {"s": RAW_SCHEMA},
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out
