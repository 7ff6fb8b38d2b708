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
