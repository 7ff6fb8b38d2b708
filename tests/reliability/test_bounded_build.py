"""Issue 12: a build's DuckDB connections (loader, checks, dbt) are bounded by the settings, the
data quality suites validate what the build loaded in a bounded batch, and the nightly `dbt
build` leaves the unit tests to `make test`. Fast: no build runs here."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml
from landing_fixture import DAYS, clean_rows, write_csv
from reliability_helpers import fresh_warehouse

from pipelines.contract import table
from pipelines.dbt_project import DUCKDB_SETTING_VARS, MANIFEST, build_vars
from pipelines.defs.dbt.assets import dbt_build_args
from pipelines.ingest.checks import contract_check
from pipelines.ingest.expectations import run_suite
from pipelines.ingest.landing import scan_landing
from pipelines.ingest.load import load_table
from pipelines.paths import DBT_PROJECT_DIR
from pipelines.settings import Settings, get_settings
from pipelines.warehouse.failures import StepError, failure_reason
from pipelines.warehouse.publish import connect_build

PAYMENTS = table("billing.payments")


def test_build_connections_are_bounded_by_the_settings(tmp_path):
    path = tmp_path / "b.duckdb"
    s = get_settings(build_memory_limit="300MB", build_threads=1, build_temp_dir=tmp_path / "sp")
    con = connect_build(path, s)
    got = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('temp_directory')"
    ).fetchall()[0]
    con.close()
    assert got == ("286.1 MiB", 1, str((tmp_path / "sp").resolve()))
    # unset: a spill folder next to the build file (removed with it), a thread per core
    default = Settings.model_construct().build_duckdb_config(path)
    assert default["temp_directory"] == str(path.resolve()) + ".tmp"
    assert default["memory_limit"] == "2GB" and int(default["threads"]) >= 1


def test_dbt_gets_the_same_bounds_through_its_profile(tmp_path):
    path = tmp_path / "b.duckdb"
    s = get_settings(build_memory_limit="1GB", build_threads=3)
    v = build_vars(s, dt.date(2026, 1, 2), path)
    assert {name: v[var] for name, var in DUCKDB_SETTING_VARS.items()} == s.build_duckdb_config(
        path
    )
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    settings = profile["subops"]["outputs"]["duckdb"]["settings"]
    # dbt-duckdb SETs these on every cursor; temp_directory is left to DuckDB's default
    # (`<build file>.tmp`): a second SET of it after a spill fails (seen at --scale 300)
    assert "temp_directory" not in settings
    for name, var in DUCKDB_SETTING_VARS.items():
        if name != "temp_directory":
            assert f"var('{var}'" in settings[name], name


def test_duckdb_refuses_a_second_temp_directory_once_it_spilled(tmp_path):
    """Why the profile leaves temp_directory out: after a spill, a new cursor's SET fails."""
    import duckdb
    import pytest

    con = duckdb.connect(
        str(tmp_path / "s.duckdb"), config={"memory_limit": "32MB", "threads": "1"}
    )
    con.execute(f"SET temp_directory = '{tmp_path / 'spill'}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(2000000)")
    con.execute("SELECT h, count(*) FROM t GROUP BY h ORDER BY h LIMIT 1").fetchall()  # spills
    if not any((tmp_path / "spill").iterdir()):
        pytest.skip("DuckDB did not spill on this machine")  # the premise, not our code
    with pytest.raises(duckdb.Error, match="temporary directory"):
        con.cursor().execute(f"SET temp_directory = '{tmp_path / 'spill'}'")


def test_the_nightly_dbt_build_leaves_unit_tests_to_make_test():
    args = dbt_build_args({"as_of_date": "2026-01-02"})
    assert args[0] == "build"
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
    nodes = json.loads(Path(MANIFEST).read_text())["unit_tests"]
    assert nodes, "the project has unit tests: tests/dbt/test_dbt_build.py runs every one"


def payments(day: str, n: int, attempted: str | None = None) -> list[dict[str, str]]:
    one = clean_rows(day, 0)["billing.payments"][0]
    return [
        dict(one, payment_id=f"{day}-{i}", **({"attempted_at": attempted} if attempted else {}))
        for i in range(n)
    ]


def test_expectations_validate_this_builds_rows_in_a_bounded_sample(tmp_path):
    """An implausible date in an earlier build's file does not fail today's suite; a new file
    is validated whole up to gx_max_rows, beyond that on a uniform sample of that size."""
    folder = tmp_path / "billing" / "payments"
    write_csv(
        folder / f"{DAYS[0]}.csv",
        list(PAYMENTS.column_names),
        payments(DAYS[0], 20, "1970-01-01T00:00:00Z"),
    )
    write_csv(folder / f"{DAYS[1]}.csv", list(PAYMENTS.column_names), payments(DAYS[1], 50))
    con = fresh_warehouse()
    files = scan_landing(tmp_path).for_table(PAYMENTS)
    load_table(con, PAYMENTS, files, "r1")
    old, new = (f.rel for f in files)
    as_of = dt.date.fromisoformat(DAYS[1])

    stale = run_suite(con, PAYMENTS, [old], as_of)
    assert not stale.passed and any("attempted_at" in f for f in stale.failed)
    today = run_suite(con, PAYMENTS, [new], as_of)
    assert today.passed and (today.rows, today.loaded) == (50, 50)
    assert "all 50 rows loaded by this build" in today.describe()
    sampled = run_suite(con, PAYMENTS, [new], as_of, max_rows=7)
    assert sampled.passed and (sampled.rows, sampled.loaded) == (7, 50)
    assert "a sample of 7 of the 50 rows" in sampled.describe()
    nothing = run_suite(con, PAYMENTS, [], as_of)
    assert nothing.passed and nothing.evaluated == 0


def test_running_out_of_the_memory_limit_names_the_setting(tmp_path):
    s = get_settings(warehouse_dir=tmp_path, build_memory_limit="512MB")
    error = StepError(
        "subops_dbt_models",
        "dbt model fct_usage failed: Out of Memory Error: failed to allocate data of size 64 MiB",
        "Out of Memory Error: failed to allocate data of size 64.0 MiB (480 MiB/488 MiB used)",
    )
    why = failure_reason(s, [error], [])
    assert "SUBOPS_BUILD_MEMORY_LIMIT (512MB)" in why and "subops_dbt_models" in why


def test_the_contract_check_examines_this_builds_rows_and_their_keys(tmp_path):
    """A nightly checks what it loaded: a new row repeating an old key is caught, and so is a
    NULL in a new row; history that passed in its own build is not scanned again."""
    folder = tmp_path / "billing" / "payments"
    write_csv(folder / f"{DAYS[0]}.csv", list(PAYMENTS.column_names), payments(DAYS[0], 30))
    con = fresh_warehouse()
    load_table(con, PAYMENTS, scan_landing(tmp_path).for_table(PAYMENTS), "r1")
    raw = f"raw.{PAYMENTS.raw_table}"
    old = f"billing/payments/{DAYS[0]}.csv"
    new = f"billing/payments/{DAYS[1]}.csv"
    assert contract_check(con, PAYMENTS, [old]).passed  # every row is this build's: no filter
    con.execute(  # rows a broken loader could have written: an old key again, a NULL amount
        f"""INSERT INTO {raw} SELECT * REPLACE ('{new}' AS _file) FROM {raw} WHERE payment_id
            = '{DAYS[0]}-3' UNION ALL SELECT * REPLACE ('{new}' AS _file, 'X' AS payment_id,
            NULL AS amount) FROM {raw} WHERE payment_id = '{DAYS[0]}-4'"""
    )
    got = contract_check(con, PAYMENTS, [new])
    assert not got.passed
    assert got.metadata == {"duplicate_keys": 1, "null_required": 1, "bad_enum": 0}
    assert contract_check(con, PAYMENTS, []).passed  # nothing loaded: nothing to examine
