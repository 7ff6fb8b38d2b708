"""Renewal risk as an asset of the build: after the dbt step (it reads the dbt features), before
publication (the two marts it writes are in the build file, published with everything else or
not at all). Its blocking check stops publication when the marts are not well-formed.

On a server target (PostgreSQL, Spark: `EngineTarget.runs_model_steps`) the features are read
from the run's schema there into an in-memory DuckDB under the build's memory bound, the model
runs as on DuckDB, and the two marts are written into the run's `marts` schema, published with
the rest. A target that cannot take tables written outside dbt records that the step did not run."""

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence

import dagster as dg
import duckdb

from pipelines.defs.ingest.assets import record_checks
from pipelines.defs.resources import WRITER_POOL, WarehouseResource
from pipelines.ingest.checks import CheckOutcome
from pipelines.intelligence.renewal_risk import (
    FEATURES_TABLE,
    HEALTH_DESCRIPTION,
    HEALTH_TABLE,
    QUALITY_DESCRIPTION,
    QUALITY_TABLE,
    RiskResult,
    build_renewal_risk,
    health_problems,
)
from pipelines.targets import EngineTarget, get_target, run_tag_for
from pipelines.warehouse.publish import build_info, connect_build

HEALTH_KEY = dg.AssetKey(["marts", "account_health"])
QUALITY_KEY = dg.AssetKey(["marts", "model_quality"])
RISK_KEYS = [HEALTH_KEY, QUALITY_KEY]
CHECK_NAME = "renewal_risk_well_formed"


def renewal_risk_assets(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The renewal-risk step, after `upstream` (the dbt assets: one `dbt build` step)."""

    @dg.multi_asset(
        name="renewal_risk",
        specs=[
            dg.AssetSpec(HEALTH_KEY, deps=upstream, description=HEALTH_DESCRIPTION),
            dg.AssetSpec(QUALITY_KEY, deps=upstream, description=QUALITY_DESCRIPTION),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=HEALTH_KEY,
                blocking=True,
                description="account_health and model_quality have their declared columns, one "
                "row per account with MRR on the as-of date, scores 0–100 with their band",
            )
        ],
        group_name="intelligence",
        pool=WRITER_POOL,
    )
    def renewal_risk(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Backtest and score renewal risk from the dbt features (docs/metrics.md M1)."""
        settings = warehouse.settings()
        target = get_target(settings)
        if target.is_server and not target.runs_model_steps:
            # the features are dbt models built on the server, not in this build file, and this
            # target cannot take tables written outside dbt (docs/engines.md, "What runs where")
            note = f"renewal risk is not computed on {target.describe()}"
            context.log.warning(note)
            yield dg.MaterializeResult(asset_key=HEALTH_KEY, metadata={"skipped": note})
            yield dg.MaterializeResult(asset_key=QUALITY_KEY, metadata={"skipped": note})
            yield dg.AssetCheckResult(
                check_name=CHECK_NAME, asset_key=HEALTH_KEY, passed=True, description=note
            )
            return
        path = warehouse.build_path(context.run_id)
        as_of = build_info(path)["as_of_date"]
        if target.is_server:
            tag = run_tag_for(context.run_id)
            result, problems = score_on_target(target, tag, as_of, settings.build_memory_limit)
        with contextlib.closing(connect_build(path, settings)) as con:
            if not target.is_server:
                result = build_renewal_risk(con, as_of)
                problems = health_problems(con, as_of)
            outcome = CheckOutcome(
                CHECK_NAME,
                not problems,
                "; ".join(problems)[:900]
                or f"{result.scored} accounts scored from {FEATURES_TABLE}",
                {"problems": len(problems)},
            )
            record_checks(con, context.run_id, HEALTH_KEY.to_user_string(), [(outcome, True)])
        auc = {f"auc_{q['model']}": round(q["auc"], 3) for q in result.quality}
        yield dg.MaterializeResult(
            asset_key=HEALTH_KEY,
            metadata={"accounts_scored": result.scored, "high_risk": result.high},
        )
        yield dg.MaterializeResult(
            asset_key=QUALITY_KEY, metadata={f"auc_{k}": v for k, v in auc.items()}
        )
        yield dg.AssetCheckResult(
            check_name=CHECK_NAME,
            asset_key=HEALTH_KEY,
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=outcome.description,
        )

    return renewal_risk


def score_on_target(
    target: EngineTarget, run_tag: str, as_of: dt.date, memory_limit: str
) -> tuple[RiskResult, list[str]]:
    """Renewal risk on a server target: the run's features into an in-memory DuckDB, the model
    as on DuckDB, and — when the marts are well-formed — both marts into the run's schema."""
    schema, table = FEATURES_TABLE.split(".")
    config = {"threads": 1, "memory_limit": memory_limit.replace(" ", "")}
    with contextlib.closing(duckdb.connect(config=config)) as mem:
        mem.execute("SET TimeZone = 'UTC'")
        mem.execute("CREATE SCHEMA IF NOT EXISTS marts")
        target.read_table(run_tag, schema, table, mem)
        result = build_renewal_risk(mem, as_of)
        problems = health_problems(mem, as_of)
        if not problems:
            marts = [tuple(HEALTH_TABLE.split(".")), tuple(QUALITY_TABLE.split("."))]
            target.write_tables(mem, marts, run_tag)  # type: ignore[arg-type]
    return result, problems
