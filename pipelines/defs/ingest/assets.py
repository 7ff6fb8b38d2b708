"""One asset per contract table (`raw/<source>__<table>`, grouped by source) with its checks,
and the referential-rules asset over all of them."""

import contextlib
from collections.abc import Iterator

import dagster as dg
import duckdb

from pipelines.contract import TABLES, LoadMode, Table
from pipelines.defs.resources import INGEST_RETRY, WRITER_POOL, WarehouseResource
from pipelines.defs.warehouse.assets import BUILD_KEY
from pipelines.ingest.checks import (
    CheckOutcome,
    contract_check,
    reconciliation_check,
    snapshot_check,
)
from pipelines.ingest.expectations import run_suite
from pipelines.ingest.load import load_table
from pipelines.ingest.references import MAX_BREACH_RATE, blocking_breaches, check_references
from pipelines.warehouse.audit import record_check
from pipelines.warehouse.pending import landing_scan
from pipelines.warehouse.publish import build_info, connect_build

REFERENCES_KEY = dg.AssetKey(["audit", "reference_breaches"])


def raw_key(t: Table) -> dg.AssetKey:
    return dg.AssetKey(["raw", t.raw_table])


def record_checks(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    asset: str,
    outcomes: list[tuple[CheckOutcome, bool]],
) -> None:
    """Keep check outcomes inside the build (audit.check_results) so audit.runs can count them."""
    for o, blocking in outcomes:
        record_check(
            con,
            run_id,
            name=o.name,
            asset=asset,
            passed=o.passed,
            blocking=blocking,
            description=o.description,
        )


def _check_result(o: CheckOutcome, blocking: bool) -> dg.AssetCheckResult:
    sev = dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=o.name,
        passed=o.passed,
        severity=sev,
        description=o.description,
        metadata=o.metadata,
    )


def raw_asset(t: Table) -> dg.AssetsDefinition:
    key = raw_key(t)

    @dg.asset(
        key=key,
        group_name=t.source,
        deps=[BUILD_KEY],
        description=f"{t.description} Load mode {t.load_mode.value}, key {', '.join(t.key)}.",
        check_specs=[
            dg.AssetCheckSpec(
                "contract", asset=key, blocking=True, description="raw holds one valid row per key"
            ),
            dg.AssetCheckSpec(
                "reconciliation",
                asset=key,
                blocking=True,
                description="rows read = loaded + quarantined, for every file",
            ),
            dg.AssetCheckSpec(
                "expectations",
                asset=key,
                blocking=False,
                description="Great Expectations suite on the rows this build loaded (a sample "
                "beyond SUBOPS_GX_MAX_ROWS): ranges, sets, completeness",
            ),
            *(
                [
                    dg.AssetCheckSpec(
                        "snapshot_deletions",
                        asset=key,
                        blocking=True,
                        description="a new snapshot deletes at most the allowed share of keys "
                        "(SUBOPS_SNAPSHOT_MAX_DELETE_SHARE) unless confirmed",
                    )
                ]
                if t.load_mode is LoadMode.SNAPSHOT
                else []
            ),
        ],
        retry_policy=INGEST_RETRY,
        pool=WRITER_POOL,
        kinds={"duckdb"},
        tags={"subops/load_mode": t.load_mode.value},
    )
    def _load(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        settings = warehouse.settings()
        path = warehouse.build_path(context.run_id)
        info = build_info(path)
        # the folder as the build's first step saw it (same day, same as-of date)
        scan = landing_scan(settings, info["as_of_date"], today=info["started_at"].date())
        with contextlib.closing(connect_build(path, settings)) as con:
            res = load_table(con, t, scan.for_table(t), context.run_id)
            loaded = [f.file for f in res.files if f.status != "rejected"]
            contract = contract_check(con, t, loaded)
            recon = reconciliation_check(con, t, context.run_id)
            suite = run_suite(con, t, loaded, info["as_of_date"], settings.gx_max_rows)
            gx = CheckOutcome(
                "expectations",
                suite.passed,
                suite.describe(),
                {
                    "evaluated": suite.evaluated,
                    "failed": len(suite.failed),
                    "rows_validated": suite.rows,
                    "rows_loaded": suite.loaded,
                },
            )
            outcomes = [(contract, True), (recon, True), (gx, False)]
            snap = None
            if t.load_mode is LoadMode.SNAPSHOT:
                snap = snapshot_check(
                    t,
                    res.snapshot,
                    settings.snapshot_max_delete_share,
                    confirmed=settings.confirm_deletions,
                )
                outcomes.append((snap, True))
            record_checks(con, context.run_id, key.to_user_string(), outcomes)
        for f in res.files:
            context.log.info(
                f"{f.file}: read {f.rows_read}, loaded {f.rows_loaded} "
                f"({f.rows_superseded} superseded by newer versions), "
                f"quarantined {f.rows_quarantined} ({f.status})"
            )
        if res.reloaded_because:
            context.log.warning(
                f"{t.qualified_name} reloaded from all its files: re-delivered "
                + ", ".join(res.reloaded_because)
            )
        if res.missing:
            context.log.warning(
                f"{t.qualified_name}: {len(res.missing)} loaded file(s) no longer in the landing "
                "folder (rows kept): " + ", ".join(res.missing[:5])
            )
        yield dg.MaterializeResult(
            metadata={
                "files_loaded": len(res.files),
                "files_skipped": res.skipped,
                "rows_loaded": res.rows_loaded,
                "rows_quarantined": res.rows_quarantined,
                "files_rejected": sum(f.status == "rejected" for f in res.files),
                "rows_superseded": res.rows_superseded,
                "reloaded_because": ", ".join(res.reloaded_because),
                "files_missing": len(res.missing),
            }
        )
        yield _check_result(contract, True)
        yield _check_result(recon, True)
        yield _check_result(gx, False)
        if snap is not None:
            yield _check_result(snap, True)

    return _load


RAW_ASSETS = [raw_asset(t) for t in TABLES]
RAW_KEYS = [raw_key(t) for t in TABLES]


@dg.asset(
    key=REFERENCES_KEY,
    group_name="checks",
    deps=RAW_KEYS,
    check_specs=[
        dg.AssetCheckSpec(
            "referential_rules",
            asset=REFERENCES_KEY,
            blocking=True,
            description="ids, FX rates and usage metrics resolve (blocks above "
            f"{MAX_BREACH_RATE:.0%} of a table's rows; fewer are reported)",
        )
    ],
    pool=WRITER_POOL,
    kinds={"duckdb"},
)
def reference_breaches(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Referential rules (docs/metrics.md Q1) across every extract so far
    (audit.reference_breaches)."""
    path = warehouse.build_path(context.run_id)
    as_of = build_info(path)["as_of_date"]
    with contextlib.closing(connect_build(path, warehouse.settings())) as con:
        summaries = check_references(
            con, context.run_id, fx_max_rate_age_days=warehouse.fx_max_rate_age_days, as_of=as_of
        )
        blocking = blocking_breaches(summaries)
        desc = (
            "no systematic breaches"
            if not blocking
            else "systematic breaches: "
            + "; ".join(
                f"{b.table}.{b.column} {b.reason_code} {b.breaches}/{b.rows}" for b in blocking
            )
        )
        outcome = CheckOutcome(
            "referential_rules",
            not blocking,
            desc,
            {"breaches": sum(s.breaches for s in summaries), "blocking": len(blocking)},
        )
        record_checks(con, context.run_id, REFERENCES_KEY.to_user_string(), [(outcome, True)])
    yield dg.MaterializeResult(
        metadata={f"{s.table}.{s.column}:{s.reason_code}": s.breaches for s in summaries}
    )
    yield _check_result(outcome, True)
