"""The build-target registry and contract, without a server (the engines themselves:
`make test-engines`, tests/engines)."""

from __future__ import annotations

import pytest

from pipelines.settings import get_settings
from pipelines.targets import TARGETS, get_target, run_prefix, run_schema, run_tag_for
from pipelines.targets.base import check_tag, shipped_tables, source_tables


def test_the_default_target_is_duckdb_and_ships_nothing(tmp_path):
    t = get_target(get_settings(warehouse_dir=tmp_path))
    assert t.name == "duckdb" and not t.is_server
    assert t.ship(tmp_path / "x.duckdb", "abc") == {}
    assert t.dbt_args("abc") == [] and t.dbt_vars("abc") == {}


def test_an_unknown_target_names_the_known_ones():
    with pytest.raises(ValueError, match="duckdb"):
        get_target(get_settings(), "oracle")
    assert set(TARGETS) == {"duckdb", "postgres", "spark"}


def test_run_schemas_are_safe_identifiers():
    tag = run_tag_for("1A2B3C4D-0000-4000-8000-000000000000")
    assert tag == "1a2b3c4d"
    assert run_prefix(tag) == "run_1a2b3c4d_"
    assert run_schema(tag, "marts") == "run_1a2b3c4d_marts"
    with pytest.raises(ValueError, match="schema name"):
        check_tag('x"; drop schema marts; --')


def test_server_targets_ship_every_loader_table_a_dbt_source_reads(tmp_path):
    """The shipped set is derived from the sources yml: every contract raw table, and the
    loader's quarantine/audit tables exception triage reads; each source's schema carries the
    run prefix (else a server build would read the served schema, not its run's)."""
    import duckdb
    import yaml

    from pipelines.contract import TABLES
    from pipelines.paths import DBT_PROJECT_DIR
    from pipelines.warehouse.schema import ensure_schema

    declared = source_tables()
    assert set(declared["raw"]) == {t.raw_table for t in TABLES}
    assert declared["quarantine"] == ("files", "rows")
    assert declared["audit"] == ("reference_breaches",)
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for src in (yaml.safe_load(path.read_text()) or {}).get("sources") or []:
            assert "var('schema_prefix', '')" in str(src.get("schema")), (path, src["name"])
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        ensure_schema(con)
        tables = shipped_tables(con)
    assert ("quarantine", "rows") in tables and ("audit", "load_log") not in tables
    assert len(tables) == len(TABLES) + 3
    assert dict(tables[("audit", "reference_breaches")])["row_number"] == "BIGINT"


def test_a_run_switches_every_schema_dbt_builds_and_the_shipped_ones():
    from pipelines.targets import DBT_SCHEMAS, LOADER_SCHEMAS, RUN_LAYERS

    assert {"staging", "intermediate", "marts", "semantic", "reference"} <= set(DBT_SCHEMAS)
    assert (*LOADER_SCHEMAS, *DBT_SCHEMAS) == RUN_LAYERS


def test_dbt_names_fit_postgres_identifiers():
    """PostgreSQL cuts identifiers at 63 bytes, and dbt-postgres refuses a relation named
    longer (a unit test's temporary relation is named after the test): keep them short."""
    import yaml

    from pipelines.paths import DBT_PROJECT_DIR

    long = []
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests") or []:
            if len(test["name"]) > 63:
                long.append(test["name"])
    for path in (DBT_PROJECT_DIR / "models").rglob("*.sql"):
        if len(path.stem) > 63:
            long.append(path.stem)
    assert not long, f"names longer than 63 characters: {long}"
