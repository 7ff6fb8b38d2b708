"""The dbt project as assets: one `dbt build` per warehouse build (models, seeds, tests), pointed
at the run's build file. dbt sources map onto the raw assets through the contract."""

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines.contract import TABLES
from pipelines.dbt_project import build_vars, dbt_executable, ensure_manifest
from pipelines.defs.dbt.project import subops_dbt
from pipelines.defs.ingest.assets import REFERENCES_KEY
from pipelines.defs.resources import WRITER_POOL, WarehouseResource
from pipelines.targets import EngineTarget, get_target, run_tag_for
from pipelines.warehouse.audit import record_dbt_tests
from pipelines.warehouse.publish import build_info

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


def dbt_build_args(dbt_vars: Mapping[str, str]) -> list[str]:
    """The nightly's `dbt build`: models, seeds and data tests (they block publication), not the
    unit tests: those test the SQL's logic on fixed inputs, not the night's data, so they run in
    `make test` and CI (tests/dbt), not on every build."""
    return ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars)]


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
        """`dbt build` once (no unit tests), into this run's build file (named in --vars), or on
        a server target into the run's schemas there, after shipping the raw tables to it."""
        settings = warehouse.settings()
        path = warehouse.build_path(context.run_id)
        info = build_info(path)
        dbt_vars = build_vars(settings, info["as_of_date"], path)
        # a full refresh rebuilds the incremental facts whole (dbt_project/README.md)
        refresh = ["--full-refresh"] if info["full_refresh"] else []
        target = get_target(settings)
        tag = run_tag_for(context.run_id)
        target_args: list[str] = []
        env: dict[str, str] = {}
        if target.is_server:
            shipped = target.ship(path, tag)
            context.log.info(
                f"shipped {len(shipped)} source tables ({sum(shipped.values())} rows) to "
                f"{target.describe()}"
            )
            dbt_vars = {**dbt_vars, **target.dbt_vars(tag)}
            target_args, env = target.dbt_args(tag), target.dbt_env(tag)
            refresh = []  # the run's schemas start empty: every model is built whole
        with _environment(env):
            invocation = dbt.cli(
                [*dbt_build_args(dbt_vars), *target_args, *refresh],
                context=context,
                raise_on_error=False,
            )
            yield from _run_dbt(context, invocation, path, target, tag)

    return [subops_dbt_models]


def _run_dbt(
    context: dg.AssetExecutionContext, invocation: Any, path: Path, target: EngineTarget, tag: str
) -> Iterator[Any]:
    """Stream dbt's events, record its tests as checks, fail the step if dbt or a test failed
    (a server target's run schemas are then dropped, unless failed builds are kept)."""
    ok = False
    try:
        yield from invocation.stream()
        run_results = _run_results(context, invocation)
        unrecorded = _record_tests(context, path, run_results)
        if not invocation.is_successful():
            error = str(invocation.get_error() or "")
            raise dg.Failure(
                description=dbt_failure_message(run_results, error),
                metadata={"log_tail": error[-2000:]},
            ) from unrecorded
        if run_results is None:
            raise dg.Failure(
                description="dbt build left no run_results.json, so its tests could not be "
                "counted as checks — dbt's output is in the log"
            )
        if unrecorded is not None:
            raise dg.Failure(
                description=f"the dbt test results could not be written to {path.name}: "
                f"{_first_line(unrecorded)}"
            ) from unrecorded
        ok = True
    finally:
        # dagster-dbt writes each invocation's artifacts to its own target folder: a nightly
        # run would otherwise leave one behind per build, forever
        shutil.rmtree(invocation.target_path, ignore_errors=True)
        if not ok and target.is_server and not target.settings.keep_failed_builds:
            try:
                target.discard(tag)
            except Exception:
                context.log.exception(f"dropping run {tag}'s schemas on {target.describe()}")


@contextlib.contextmanager
def _environment(extra: Mapping[str, str]) -> Iterator[None]:
    """`extra` set in os.environ meanwhile (dagster-dbt passes the process's environment)."""
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run_results(context: dg.AssetExecutionContext, invocation: Any) -> dict[str, Any] | None:
    """dbt's run_results.json; None when dbt stopped before writing it (a failed parse)."""
    try:
        return invocation.get_artifact("run_results.json")
    except (OSError, ValueError) as exc:
        context.log.warning(f"dbt wrote no readable run_results.json: {exc}")
        return None


def _record_tests(
    context: dg.AssetExecutionContext, path: os.PathLike[str], run_results: Mapping[str, Any] | None
) -> Exception | None:
    """Record dbt's tests as checks; the error if they could not be written (the step fails with
    it, after dbt's own failure if there is one)."""
    if run_results is None:
        return None
    try:
        record_dbt_tests(path, context.run_id, run_results)
    except Exception as exc:
        context.log.exception("recording the dbt test results failed")
        return exc
    return None


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment (the venv need not be on PATH)."""
    return DbtCliResource(project_dir=subops_dbt, dbt_executable=str(dbt_executable()))
