"""The engine a build's dbt models run on: the contract every target implements.

A build always starts in DuckDB: the loader validates the landing folder's extracts into this
run's *build file* (`raw`, `quarantine`, `audit` schemas), exactly as with the default target.
A **server target** (PostgreSQL, Spark) then takes over for dbt:

1. ``ship(build_file, run_tag)`` copies the tables dbt reads from the build file into the engine,
   under the run's own schema set: every table a dbt source reads from a loader schema
   (`LOADER_SCHEMAS`: ``raw`` — the contract's ``<source>__<table>``, sources yml rendered by
   `pipelines/contract/dbt_sources.py` — and the loader's ``quarantine.rows``/``files`` and
   ``audit.reference_breaches``, `dbt_project/models/staging/loader/_loader__sources.yml`;
   `shipped_tables`) into schema ``run_schema(run_tag, <schema>)``, with the same table and column
   names and types that hold the same values (DECIMAL stays DECIMAL with its precision and scale,
   DATE, TIMESTAMP, BOOLEAN, BIGINT, VARCHAR; `_extra` is text). The set is derived from the
   sources yml, so a model that starts reading another loader table gets it shipped. `ship` first
   drops whatever a previous attempt with the same tag left behind, so it can be re-run.
2. ``dbt_args(run_tag)`` → the extra dbt CLI arguments: ``["--target", "<profile output>"]``
   (the outputs of `dbt_project/profiles.yml`); ``dbt_vars(run_tag)`` → extra ``--vars`` merged
   into the build's vars: at least ``{"schema_prefix": run_prefix(run_tag)}``, which makes every
   dbt schema (the loader sources' ``raw``, ``quarantine``, ``audit`` included: their yml reads
   the var) ``<prefix><layer>``, e.g.
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
import functools
import re
from pathlib import Path
from typing import Any, ClassVar

import yaml

from pipelines.paths import DBT_PROJECT_DIR
from pipelines.settings import Settings

#: The DuckDB schema of the contract's validated tables (dbt sources `<source>.<table>`).
RAW_SCHEMA = "raw"
#: The build file's schemas the loader writes (pipelines/warehouse/schema.py): the tables of
#: these that dbt sources read are shipped to a server target (`shipped_tables`).
LOADER_SCHEMAS = (RAW_SCHEMA, "quarantine", "audit")


def _dbt_schemas(project_file: Path) -> tuple[str, ...]:
    """Every `+schema:` of dbt_project.yml (models' layers and the seeds'), in file order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "+schema" and isinstance(value, str) and value not in found:
                    found.append(value)
                else:
                    walk(value)

    walk(yaml.safe_load(project_file.read_text()))
    return tuple(found)


#: The schemas dbt builds (`dbt_project.yml` `+schema:`: staging, intermediate, marts, semantic,
#: the seeds' reference), besides the shipped ones. A target publishes the shipped schemas and
#: these together (the staging views read the run's raw tables; exception triage reads
#: quarantine and audit).
DBT_SCHEMAS = _dbt_schemas(DBT_PROJECT_DIR / "dbt_project.yml")
#: Every schema of a run on a server target, in the order they are switched.
RUN_LAYERS = (*LOADER_SCHEMAS, *DBT_SCHEMAS)
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
        """Copy the build file's tables that dbt sources read (`shipped_tables`) into the run's
        schemas; {"<schema>.<table>": rows}."""

    def dbt_args(self, run_tag: str) -> list[str]:
        """Extra `dbt` CLI arguments (the profile output)."""
        return ["--target", self.name]

    def dbt_vars(self, run_tag: str) -> dict[str, str]:
        """Extra `--vars` (the run's schema prefix, non-secret connection details)."""
        return {SCHEMA_PREFIX_VAR: run_prefix(run_tag)}

    def dbt_env(self, run_tag: str) -> dict[str, str]:
        """Extra environment variables of the dbt invocation."""
        return {}

    #: whether the renewal-risk step can read its features from the run's schemas and write
    #: its two marts into them (`read_table`, `write_tables`); otherwise it is skipped there
    runs_model_steps: ClassVar[bool] = False

    def read_table(self, run_tag: str, schema: str, table: str, into: Any) -> int:
        """Copy the run's `<schema>.<table>` (built by dbt there) into DuckDB connection `into`
        as `<schema>.<table>`, with the DuckDB types holding the same values; its rows."""
        raise NotImplementedError(f"{self.name} does not read tables back")

    def write_tables(self, src: Any, tables: list[tuple[str, str]], run_tag: str) -> dict[str, int]:
        """Copy DuckDB `src`'s `<schema>.<table>`s into the run's schemas (replacing them),
        before publication; {"<schema>.<table>": rows}."""
        raise NotImplementedError(f"{self.name} does not take tables written outside dbt")

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


#: `{{ var('schema_prefix', '') }}raw` → `raw`: the run prefix a source's schema carries
_JINJA = re.compile(r"\{\{.*?\}\}", re.S)


@functools.cache
def source_tables(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, tuple[str, ...]]:
    """{loader schema: (table identifiers)} that the dbt project's sources read, from every
    sources yml under `models/` (a source's schema without its `schema_prefix` expression;
    a table's `identifier`, else its name). Sources over other schemas are not shipped."""
    found: dict[str, set[str]] = {}
    for path in sorted((project_dir / "models").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for src in doc.get("sources") or []:
            schema = _JINJA.sub("", str(src.get("schema") or src["name"])).strip()
            if schema not in LOADER_SCHEMAS:
                continue
            for t in src.get("tables") or []:
                found.setdefault(schema, set()).add(str(t.get("identifier") or t["name"]))
    return {s: tuple(sorted(found[s])) for s in LOADER_SCHEMAS if s in found}


def duckdb_columns(con: Any, schema: str, table: str) -> list[tuple[str, str]]:
    """[(column, DuckDB type)] of one table of DuckDB connection `con`, in column order."""
    return [
        (c, t)
        for c, t in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = $s AND table_name = $t ORDER BY column_index",
            {"s": schema, "t": table},
        ).fetchall()
    ]


def shipped_tables(con: Any) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """{(schema, table): [(column, DuckDB type)]} in column order: every loader table a dbt
    source reads (`source_tables`), what every server target ships (`con`: a DuckDB connection
    to the build file). A source table missing from the build file is an error naming it."""
    rows = con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE list_contains($s, schema_name) ORDER BY schema_name, table_name, column_index",
        {"s": list(LOADER_SCHEMAS)},
    ).fetchall()
    present: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        present.setdefault((schema, table), []).append((column, dtype))
    wanted = [(s, t) for s, tables in source_tables().items() for t in tables]
    missing = [f"{s}.{t}" for s, t in wanted if (s, t) not in present]
    if missing:
        raise RuntimeError(
            f"the dbt sources read {', '.join(missing)}, which the build file does not hold: "
            "the loader writes no such table — fix the source's schema/identifier in the sources "
            "yml under dbt_project/models/"
        )
    return {key: present[key] for key in wanted}
