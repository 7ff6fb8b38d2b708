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
