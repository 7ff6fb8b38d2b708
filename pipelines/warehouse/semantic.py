"""The semantic layer: metrics defined once in dbt (dbt_project/models/semantic/), queried by name.

MetricFlow compiles a metric query (metrics, group-bys, filters) from the dbt semantic manifest
into one SELECT; that SELECT runs like `subops sql` does — a read-only, memory-capped, timed
connection to the published warehouse. MetricFlow never gets a connection of its own (its `mf`
CLI would open the warehouse through dbt, read-write).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.dbt_project import ensure_manifest
from pipelines.paths import DBT_PROJECT_DIR

if TYPE_CHECKING:  # MetricFlow is imported lazily: it takes a second and most commands skip it
    from metricflow.engine.metricflow_engine import MetricFlowEngine

#: Time grains a group-by may name directly (`month` = `metric_time__month`).
TIME_GRAINS = ("day", "week", "month", "quarter", "year")
#: Dimensions that only repeat metric_time (each fact's own month column).
HIDDEN_DIMENSIONS = frozenset({"metric_time", "month_start"})
#: How a metric's values print (from the metric's `config.meta.unit` in the dbt yml).
UNITS = ("usd", "ratio", "count")


class SemanticLayerError(ValueError):
    """A metric query that cannot be answered; the message names the cause and the fix."""


@dataclass
class MetricInfo:
    name: str
    label: str
    description: str
    unit: str
    kind: str


@dataclass
class MetricsResult:
    """Rows of a metric query. `columns` are the names the user asked for (`month`, `segment`,
    `mrr`); `units` says which columns are metrics and how they print."""

    columns: list[str]
    rows: list[tuple]
    sql: str
    units: dict[str, str] = field(default_factory=dict)


# --- the semantic manifest ------------------------------------------------------------------------


def semantic_manifest_path() -> Path:
    """target/semantic_manifest.json of the dbt project, written by the same `dbt parse` as the
    manifest (re-run when a dbt file changed since; no dagster import, so `subops metrics` answers
    quickly)."""
    try:
        ensure_manifest()
    except RuntimeError as exc:
        raise SemanticLayerError(str(exc).splitlines()[0][:300]) from exc
    return DBT_PROJECT_DIR / "target" / "semantic_manifest.json"


def _relative_relations(raw: dict[str, Any]) -> dict[str, Any]:
    """Tables as `<schema>.<table>`, without the database dbt parsed with: the published file's
    catalog is named after whatever build file it is (`builds/<run>.duckdb`)."""

    def fix(rel: dict[str, Any]) -> None:
        rel["database"] = None
        rel["relation_name"] = f"{rel['schema_name']}.{rel['alias']}"

    for sm in raw.get("semantic_models", []):
        fix(sm["node_relation"])
    for spine in raw.get("project_configuration", {}).get("time_spines", []):
        fix(spine["node_relation"])
    return raw


@functools.cache
def _load_manifest(path: Path, mtime: float) -> Any:
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )

    raw = _relative_relations(json.loads(path.read_text()))
    return parse_manifest_from_dbt_generated_manifest(json.dumps(raw))


def load_semantic_manifest(path: Path | None = None) -> Any:
    """The parsed semantic manifest (MetricFlow's PydanticSemanticManifest)."""
    path = path or semantic_manifest_path()
    if not path.exists():
        raise SemanticLayerError(
            f"no semantic manifest at {path}: run `dbt parse` in dbt_project/ (or `subops build`)"
        )
    return _load_manifest(path, path.stat().st_mtime)


def list_metrics(manifest: Any | None = None) -> list[MetricInfo]:
    """Every metric of the semantic layer, by name."""
    manifest = manifest or load_semantic_manifest()
    out = []
    for m in manifest.metrics:
        meta = (m.config.meta if m.config else None) or {}
        out.append(
            MetricInfo(
                name=m.name,
                label=m.label or m.name,
                description=(m.description or "").strip(),
                unit=str(meta.get("unit", "")),
                kind=str(getattr(m.type, "value", m.type)),
            )
        )
    return sorted(out, key=lambda i: i.name)


# --- MetricFlow's SQL client: DuckDB dialect, read-only execution ---------------------------------


class ReadOnlyDuckDbClient:
    """MetricFlow's `SqlClient` over the published warehouse: DuckDB SQL, one read-only
    statement per query (`run_read_only_query`: memory cap, timeout, no file access)."""

    def __init__(self, path: Path, *, memory_limit: str, timeout_seconds: float) -> None:
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self._path = path
        self._memory_limit = memory_limit
        self._timeout = timeout_seconds
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self) -> Any:
        from metricflow.protocols.sql_client import SqlEngine

        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> Any:
        return self._renderer

    def fetch(self, stmt: str) -> tuple[list[str], list[tuple]]:
        from pipelines.warehouse.readonly import run_read_only_query

        result = run_read_only_query(
            self._path, stmt, memory_limit=self._memory_limit, timeout_seconds=self._timeout
        )
        return result.columns, result.rows

    def query(self, stmt: str, sql_bind_parameter_set: Any = None) -> Any:
        from metricflow.data_table.mf_table import MetricFlowDataTable

        _no_bind_parameters(sql_bind_parameter_set)
        columns, rows = self.fetch(stmt)
        return MetricFlowDataTable.create_from_rows(column_names=columns, rows=rows)

    def execute(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
        raise SemanticLayerError("the semantic layer only reads: the warehouse is read-only")

    def dry_run(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
        _no_bind_parameters(sql_bind_parameter_set)
        self.fetch(f"EXPLAIN {stmt}")

    def close(self) -> None:
        """Nothing to close: every statement opens and closes its own connection."""

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _no_bind_parameters(params: Any) -> None:
    if params is not None and getattr(params, "param_dict", None):
        raise SemanticLayerError("bind parameters are not supported by the semantic layer")


# --- queries --------------------------------------------------------------------------------------


@dataclass
class SemanticLayer:
    """MetricFlow's engine over the semantic manifest, with its read-only client."""

    engine: MetricFlowEngine
    client: ReadOnlyDuckDbClient
    manifest: Any


def open_semantic_layer(
    warehouse: Path,
    *,
    memory_limit: str = "2GB",
    timeout_seconds: float = 120,
    manifest: Any | None = None,
) -> SemanticLayer:
    """MetricFlow over the semantic manifest and the (published) warehouse file. The file is
    opened per statement (a missing one: `WarehouseNotFoundError` then), so listing metrics and
    dimensions needs none."""
    from metricflow.engine.metricflow_engine import MetricFlowEngine
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    manifest = manifest or load_semantic_manifest()
    client = ReadOnlyDuckDbClient(
        Path(warehouse), memory_limit=memory_limit, timeout_seconds=timeout_seconds
    )
    engine = MetricFlowEngine(
        semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=client
    )
    return SemanticLayer(engine, client, manifest)


def _normalize(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def available_group_bys(engine: MetricFlowEngine, metrics: Sequence[str]) -> dict[str, list[str]]:
    """Short name → MetricFlow names (`segment` → [`account__segment`]) of everything the given
    metrics can be grouped by, time grains included."""
    finest = max((_finest_grain(engine, m) for m in metrics), default=0)
    out: dict[str, list[str]] = {g: [f"metric_time__{g}"] for g in TIME_GRAINS[finest:]}
    out["metric_time"] = ["metric_time"]
    for d in engine.simple_dimensions_for_metrics(list(metrics)):
        if d.name in HIDDEN_DIMENSIONS:
            continue
        out.setdefault(d.name, []).append(d.dunder_name)
    for e in engine.entities_for_metrics(list(metrics)):
        out.setdefault(e.name, []).append(e.name)
    return {k: sorted(set(v)) for k, v in out.items()}


def _finest_grain(engine: MetricFlowEngine, metric: str) -> int:
    """Index in TIME_GRAINS of the finest grain `metric` has (month for MRR, day for billings)."""
    for item in engine.list_group_bys([metric]):
        if getattr(item, "dunder_name", "").startswith("metric_time__"):
            grain = item.dunder_name.removeprefix("metric_time__")
            if grain in TIME_GRAINS:
                return TIME_GRAINS.index(grain)
    return 0


def resolve_group_by(name: str, available: dict[str, list[str]]) -> str:
    """A group-by as the user wrote it → MetricFlow's name; one line naming the choices if not."""
    key = _normalize(name)
    if "__" in key:
        return key
    found = available.get(key, [])
    if len(found) == 1:
        return found[0]
    if found:
        raise SemanticLayerError(f"group-by {name!r} is ambiguous: use one of {', '.join(found)}")
    choices = ", ".join(sorted(available))
    raise SemanticLayerError(
        f"these metrics cannot be grouped by {name!r}; they can by: {choices} "
        "(`subops metrics dimensions --metrics ...` lists them)"
    )


def check_metrics(engine: MetricFlowEngine, metrics: Sequence[str]) -> list[str]:
    known = {m.name for m in engine.list_metrics(include_dimensions=False)}
    names = [_normalize(m) for m in metrics if m.strip()]
    if not names:
        raise SemanticLayerError("no metric given: `--metrics mrr` (`subops metrics list`)")
    unknown = [m for m in names if m not in known]
    if unknown:
        raise SemanticLayerError(
            f"unknown metric {', '.join(unknown)}: known are {', '.join(sorted(known))}"
        )
    return names


def _filter_clause(item: str, available: dict[str, list[str]]) -> str:
    """`segment=enterprise` → MetricFlow's `{{ Dimension('account__segment') }} = 'enterprise'`."""
    name, sep, value = item.partition("=")
    if not sep or not name.strip():
        raise SemanticLayerError(f"--filter {item!r}: write NAME=VALUE, e.g. segment=enterprise")
    target = resolve_group_by(name, available)
    literal = "'" + value.strip().replace("'", "''") + "'"
    if target.startswith("metric_time"):
        raise SemanticLayerError("filter time with --start/--end, not --filter")
    if "__" not in target:  # an entity: its key (`plan=pln_0001`)
        return f"{{{{ Entity('{target}') }}}} = {literal}"
    return f"{{{{ Dimension('{target}') }}}} = {literal}"


def _day_start(d: dt.date | None) -> dt.datetime | None:
    return dt.datetime(d.year, d.month, d.day) if d else None


def query_metrics(
    warehouse: Path,
    metrics: Sequence[str],
    group_by: Sequence[str] = (),
    *,
    filters: Sequence[str] = (),
    where: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    order_by: Sequence[str] = (),
    limit: int | None = None,
    explain: bool = False,
    memory_limit: str = "2GB",
    timeout_seconds: float = 120,
    manifest: Any | None = None,
) -> MetricsResult:
    """Answer `metrics` grouped by `group_by` (short names like `month`, `segment`, `plan`, or
    MetricFlow's `account__segment`), from the published warehouse, read-only. Ordered by the
    group-bys unless `order_by` says otherwise (`-mrr`: descending). `explain`: SQL only."""
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest, OutputColumnOrderMode
    from metricflow_semantics.errors.error_classes import MetricFlowException

    layer = open_semantic_layer(
        warehouse, memory_limit=memory_limit, timeout_seconds=timeout_seconds, manifest=manifest
    )
    engine = layer.engine
    names = check_metrics(engine, metrics)
    available = available_group_bys(engine, names)
    headers = [_normalize(g) for g in group_by if g.strip()]
    resolved = [resolve_group_by(g, available) for g in headers]
    orders = []
    for o in order_by or headers:
        desc = o.strip().startswith("-")
        bare = _normalize(o.strip().lstrip("-"))
        if bare not in names and bare not in headers and bare not in resolved:
            raise SemanticLayerError(
                f"--order {o.strip()!r}: sort by a metric or group-by of this query "
                f"({', '.join([*headers, *names])})"
            )
        target = bare if bare in names else resolve_group_by(bare, available)
        orders.append(("-" if desc else "") + target)
    wheres = [_filter_clause(f, available) for f in filters] + [w for w in where if w.strip()]
    request = MetricFlowQueryRequest.create(
        metric_names=names,
        group_by_names=resolved,
        where_constraints=wheres or None,
        time_constraint_start=_day_start(start),
        time_constraint_end=_day_start(end),
        order_by_names=orders or None,
        limit=limit,
        output_column_order_mode=OutputColumnOrderMode.INPUT_ORDER,
    )
    try:
        sql = engine.explain(request).sql_statement.sql
    except MetricFlowException as exc:
        raise SemanticLayerError(f"metric query refused: {_metricflow_reason(exc)}") from exc
    if explain:
        return MetricsResult([], [], sql, {})
    columns, rows = _fetch(layer.client, sql)
    friendly = dict(zip(resolved, headers, strict=True))
    columns = [_column_name(c, friendly) for c in columns]
    units = {m.name: m.unit for m in list_metrics(layer.manifest)}
    return MetricsResult(
        columns, [tuple(_as_date(v) for v in r) for r in rows], sql,
        {c: units[c] for c in columns if c in units},
    )  # fmt: skip


def format_value(value: object, unit: str | None, column: str = "") -> str:
    """A cell as a table shows it: money to the cent with thousands separators (half away from
    zero, as the marts round), counts as integers, ratios as stored (6 places), periods as
    2026-10, 2026-Q4, 2026; other dates ISO."""
    if value is None:
        return ""
    if isinstance(value, dt.date) and column in ("month", "cohort", "quarter", "year"):
        return {
            "month": f"{value:%Y-%m}",
            "cohort": f"{value:%Y-%m}",
            "quarter": f"{value.year}-Q{(value.month - 1) // 3 + 1}",
            "year": f"{value.year}",
        }[column]
    if unit == "usd" and isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    if unit == "count" and isinstance(value, (int, Decimal)):
        return f"{int(value):,}"
    return str(value)


def _as_date(value: object) -> object:
    """MetricFlow truncates time with DATE_TRUNC (a timestamp): months and days print as dates."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _fetch(client: ReadOnlyDuckDbClient, sql: str) -> tuple[list[str], list[tuple]]:
    """Run the compiled SELECT; a table or column the warehouse lacks means it was built before
    these definitions."""
    from pipelines.warehouse.readonly import QueryFailedError

    try:
        return client.fetch(sql)
    except QueryFailedError as exc:
        if "Catalog Error" in str(exc) or "Binder Error" in str(exc):
            raise SemanticLayerError(
                f"{exc} — the published warehouse predates these metric definitions: run "
                "`subops build`"
            ) from exc
        raise


def _column_name(column: str, friendly: dict[str, str]) -> str:
    """MetricFlow's output column → the name the user asked for (`metric_time__month` → `month`)."""
    if column in friendly:
        return friendly[column]
    for resolved, header in friendly.items():
        if column.startswith(resolved + "__"):  # a time dimension at its default grain
            return header
    return column


def _metricflow_reason(exc: BaseException) -> str:
    """MetricFlow's multi-paragraph error as one line: its first message, what it was given, and
    its suggestions."""
    text = str(exc)
    message = re.search(r"Message:\s*\n(.*?)(?:\n\s*\n|$)", text, re.DOTALL)
    if not message:
        return _first_line(exc)
    first = " ".join(message.group(1).split())
    parts = [first.split(". ")[0].rstrip(".:")]
    given = re.search(r"Object Builder Input:\s*\n\s*(.+)", text) or re.search(
        r"Query Input:\s*\n\s*(.+)", text
    )
    if given:
        parts.append(f"given {given.group(1).strip()}")
    suggested = re.search(r"Suggestions:\s*\[(.*?)\]", text, re.DOTALL)
    if suggested:
        items = [ln.strip().rstrip(",").strip("'\"") for ln in suggested.group(1).splitlines()]
        parts.append("try " + ", ".join(i for i in items if i))
    return "; ".join(parts)


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__
