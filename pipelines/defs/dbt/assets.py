"""The dbt project as assets: one `dbt build` per warehouse build (models, seeds, tests), pointed
at the run's build file. dbt sources map onto the raw assets through the contract."""

import contextlib
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines.contract import TABLES
from pipelines.defs.dbt.project import ensure_manifest, subops_dbt
from pipelines.defs.ingest.assets import REFERENCES_KEY
from pipelines.defs.resources import WRITER_POOL, WarehouseResource
from pipelines.warehouse.publish import build_info, connect_build, utcnow

_RAW_BY_SOURCE = {(t.source, t.name): t.raw_table for t in TABLES}


class SubopsDbtTranslator(DagsterDbtTranslator):
    """dbt source (contract source, contract table; identifier `<source>__<table>`) → the raw
    asset `raw/<source>__<table>`; everything else keeps dagster-dbt's default key."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props.get("resource_type") == "source":
            raw = _RAW_BY_SOURCE.get(
                (dbt_resource_props.get("source_name"), dbt_resource_props.get("name"))
            )
            if raw:
                return dg.AssetKey(["raw", raw])
        return super().get_asset_key(dbt_resource_props)

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> Any:
        """Models reading raw tables also wait for the referential rules: a blocking breach
        stops bad data before dbt, not only before publication."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        if unique_id.startswith("model.") and any(
            d.asset_key.path[:1] == ["raw"] for d in spec.deps
        ):
            spec = spec.merge_attributes(deps=[REFERENCES_KEY])
        return spec


def has_dbt_nodes(manifest_path: os.PathLike[str]) -> bool:
    """A shell project (no models or seeds) gets no dbt assets: @dbt_assets needs one."""
    with open(manifest_path) as fh:
        nodes = json.load(fh).get("nodes", {})
    return any(n.get("resource_type") in ("model", "seed", "snapshot") for n in nodes.values())


def dbt_vars(info: Mapping[str, Any], warehouse: WarehouseResource) -> dict[str, Any]:
    return {
        "as_of_date": str(info["as_of_date"]),
        "reporting_currency": warehouse.reporting_currency,
        "support_cost_per_minute": warehouse.support_cost_per_minute,
        "services_cost_per_hour": warehouse.services_cost_per_hour,
    }


def _record_tests(path: os.PathLike[str], run_id: str, run_results: Mapping[str, Any]) -> None:
    """dbt tests count as checks in audit.runs (checks passed/failed)."""
    rows = [
        (r["unique_id"], r["status"])
        for r in run_results.get("results", [])
        if str(r.get("unique_id", "")).startswith(("test.", "unit_test."))
    ]
    with contextlib.closing(connect_build(path)) as con:
        for uid, status in rows:
            con.execute(
                "INSERT INTO audit.check_results VALUES ($r, $n, 'dbt', $p, $b, $d, $t)",
                {
                    "r": run_id,
                    "n": uid[:300],
                    "p": status == "pass",
                    "b": status in ("fail", "error"),
                    "d": f"dbt test {status}",
                    "t": utcnow(),
                },
            )


_ERROR_HEADER = re.compile(r"^\s*\w+ Error in \w+ \S+( \(.*\))?\s*$")


def _database_line(message: str) -> str:
    """The database's own first line of a dbt error (dbt puts `Runtime Error in model x (path)`
    above it)."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    body = [ln for ln in lines if not _ERROR_HEADER.match(ln)]
    return ((body or lines or ["no message"])[0])[:300]


def _node(result: Mapping[str, Any]) -> tuple[str, str]:
    """(`model`, `fct_invoices`) from a result's unique id `model.subops.fct_invoices`."""
    parts = str(result.get("unique_id", "?")).split(".")
    return parts[0], ".".join(parts[2:]) or parts[-1]


def dbt_failure_message(run_results: Mapping[str, Any] | None, error: str = "") -> str:
    """One line for a failed `dbt build`: the first model (seed, snapshot) that broke, with the
    database's first line, else the tests that failed; the full dbt output is in the run's log."""
    results = (run_results or {}).get("results", [])
    is_test = [_node(r)[0] in ("test", "unit_test") for r in results]
    broken = [
        r for r, t in zip(results, is_test, strict=True) if r.get("status") == "error" and not t
    ]
    if broken:
        kind, name = _node(broken[0])
        more = f" (+{len(broken) - 1} more)" if len(broken) > 1 else ""
        return (
            f"dbt {kind} {name} failed: {_database_line(str(broken[0].get('message') or ''))}"
            f"{more} — fix the model or the extract rows behind it (dbt's output is in the log)"
        )
    failed = [
        r
        for r, t in zip(results, is_test, strict=True)
        if t and r.get("status") in ("fail", "error")
    ]
    if failed:
        more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
        return f"dbt test {_node(failed[0])[1]} failed{more} — dbt's output is in the log"
    return f"dbt build failed: {_dbt_error_line(error)} — dbt's output is in the log"


def _dbt_error_line(error: str) -> str:
    """The first error dbt itself logged (dagster-dbt lists them after its own preamble)."""
    _, found, logged = error.partition("Errors parsed from dbt logs:")
    lines = [ln.strip() for ln in (logged if found else error).splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln.rstrip(":") != "Encountered an error"]
    return (lines[0] if lines else "dbt stopped without run results")[:300]


def build_dbt_assets() -> list[dg.AssetsDefinition]:
    manifest = ensure_manifest()
    if not has_dbt_nodes(manifest):
        return []

    @dbt_assets(
        manifest=manifest,
        project=subops_dbt,
        dagster_dbt_translator=SubopsDbtTranslator(),
        pool=WRITER_POOL,
    )
    def subops_dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator[Any]:
        """`dbt build` once, into this run's build file (env SUBOPS_DBT_DUCKDB_PATH)."""
        path = warehouse.build_path(context.run_id)
        os.environ["SUBOPS_DBT_DUCKDB_PATH"] = str(path)
        args = ["build", "--vars", json.dumps(dbt_vars(build_info(path), warehouse))]
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        try:
            yield from invocation.stream()
            run_results = None
            with contextlib.suppress(Exception):
                run_results = invocation.get_artifact("run_results.json")
            with contextlib.suppress(Exception):
                _record_tests(path, context.run_id, run_results or {})
            if not invocation.is_successful():
                error = str(invocation.get_error() or "")
                raise dg.Failure(
                    description=dbt_failure_message(run_results, error),
                    metadata={"log_tail": error[-2000:]},
                )
        finally:
            # dagster-dbt writes each invocation's artifacts to its own target folder: a nightly
            # run would otherwise leave one behind per build, forever
            shutil.rmtree(invocation.target_path, ignore_errors=True)

    return [subops_dbt_models]


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment (the venv need not be on PATH)."""
    return DbtCliResource(
        project_dir=subops_dbt, dbt_executable=str(Path(sys.executable).with_name("dbt"))
    )
