"""The PostgreSQL target's pure parts (no server): they need the postgres extra, which
`make test-engines` installs, so they live here rather than in `make test`."""

from __future__ import annotations

from pipelines.settings import get_settings
from pipelines.targets import get_target


def test_postgres_target_vars_carry_the_connection_but_no_password(monkeypatch):
    monkeypatch.setenv("SUBOPS_PG_PASSWORD", "s3cret")
    t = get_target(get_settings(target="postgres", pg_port=6543))
    assert t.dbt_args("abc") == ["--target", "postgres"]
    v = t.dbt_vars("abc")
    assert v["schema_prefix"] == "run_abc_" and v["pg_port"] == "6543"
    assert "s3cret" not in repr(v) and "s3cret" not in repr(t.dbt_env("abc"))


def test_postgres_types_keep_decimal_precision():
    from pipelines.targets.postgres import pg_type

    assert pg_type("DECIMAL(18,4)") == "numeric(18,4)"
    assert pg_type("VARCHAR") == "text" and pg_type("TIMESTAMP") == "timestamp"
    assert pg_type("JSON") == "text"


def test_the_dashboard_dialect_helper_rewrites_duckdb_spellings_and_binds_every_value():
    from dashboards.lib.served import route, to_postgres

    sql = (
        'SELECT any_value(name) FROM "marts"."x" WHERE list_contains(?::VARCHAR[], segment) '
        "AND note LIKE '%?%' AND (?::DATE IS NULL OR month <= ?) "
        "ORDER BY coalesce(list_position(?::VARCHAR[], bucket), 99)"
    )
    assert to_postgres(sql) == (
        'SELECT min(name) FROM "marts"."x" WHERE segment = ANY(%s::VARCHAR[]) '
        "AND note LIKE '%%?%%' AND (%s::DATE IS NULL OR month <= %s) "
        "ORDER BY coalesce(array_position(%s::VARCHAR[], bucket), 99)"
    )
    assert route('SELECT * FROM "marts"."kpi_monthly"') == "postgres"
    assert route('SELECT * FROM "audit"."runs"') == "duckdb"
    assert route("SELECT table_name FROM information_schema.tables") == "both"


def test_postgres_types_read_back_as_the_duckdb_types_holding_the_same_values():
    from pipelines.targets.postgres import duck_type

    assert duck_type("numeric(18,2)") == "DECIMAL(18,2)"
    assert duck_type("character varying(20)") == "VARCHAR" and duck_type("text") == "VARCHAR"
    assert duck_type("timestamp without time zone") == "TIMESTAMP"
    assert duck_type("double precision") == "DOUBLE" and duck_type("integer") == "INTEGER"
