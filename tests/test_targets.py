"""The build-target registry and contract, without a server (the engines themselves:
`make test-engines`, tests/engines)."""

from __future__ import annotations

import pytest

from pipelines.settings import get_settings
from pipelines.targets import TARGETS, get_target, run_prefix, run_schema, run_tag_for
from pipelines.targets.base import check_tag


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


def test_postgres_target_vars_carry_the_connection_but_no_password(monkeypatch):
    pytest.importorskip("psycopg", reason="the postgres extra (uv sync --extra postgres)")
    monkeypatch.setenv("SUBOPS_PG_PASSWORD", "s3cret")
    t = get_target(get_settings(target="postgres", pg_port=6543))
    assert t.dbt_args("abc") == ["--target", "postgres"]
    v = t.dbt_vars("abc")
    assert v["schema_prefix"] == "run_abc_" and v["pg_port"] == "6543"
    assert "s3cret" not in repr(v) and "s3cret" not in repr(t.dbt_env("abc"))


def test_postgres_types_keep_decimal_precision():
    pytest.importorskip("psycopg", reason="the postgres extra (uv sync --extra postgres)")
    from pipelines.targets.postgres import pg_type

    assert pg_type("DECIMAL(18,4)") == "numeric(18,4)"
    assert pg_type("VARCHAR") == "text" and pg_type("TIMESTAMP") == "timestamp"
    assert pg_type("JSON") == "text"
