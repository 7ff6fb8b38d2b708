"""Build targets: the engine dbt runs on and serves the marts from (`SUBOPS_TARGET`).

`duckdb` (default): the build file is the warehouse, as always. `postgres` and `spark`: the
validated raw tables (and the loader tables dbt reads) are shipped from the DuckDB build file to
the engine, dbt builds there into per-run schemas, and publication switches them in atomically.
The contract: `base.py`. Engines' modules are imported only when chosen (their client libraries
are optional extras).
"""

from __future__ import annotations

import importlib

from pipelines.settings import Settings
from pipelines.targets.base import (
    DBT_SCHEMAS,
    LOADER_SCHEMAS,
    RAW_SCHEMA,
    RUN_LAYERS,
    SCHEMA_PREFIX_VAR,
    EngineTarget,
    run_prefix,
    run_schema,
    run_tag_for,
)

#: target name → "module:class" (imported on first use)
TARGETS: dict[str, str] = {
    "duckdb": "pipelines.targets.duckdb:DuckDBTarget",
    "postgres": "pipelines.targets.postgres:PostgresTarget",
    "spark": "pipelines.targets.spark:SparkTarget",
}

#: the optional extra installing each server target's client libraries
EXTRAS = {"postgres": "postgres", "spark": "spark"}

__all__ = [
    "DBT_SCHEMAS",
    "LOADER_SCHEMAS",
    "RAW_SCHEMA",
    "RUN_LAYERS",
    "SCHEMA_PREFIX_VAR",
    "TARGETS",
    "EngineTarget",
    "get_target",
    "run_prefix",
    "run_schema",
    "run_tag_for",
]


def get_target(settings: Settings, name: str | None = None) -> EngineTarget:
    """The target named by `name`, else by `settings.target`."""
    name = name or settings.target
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}: set SUBOPS_TARGET to one of {sorted(TARGETS)}")
    module, _, cls = TARGETS[name].partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRAS.get(name, name)
        raise RuntimeError(
            f"target {name!r} needs packages that are not installed ({exc.name or exc}): "
            f"install them with `uv sync --extra {extra}` (or pip install 'subops[{extra}]')"
        ) from exc
    return getattr(mod, cls)(settings)
