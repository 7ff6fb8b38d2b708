"""The warehouse as analysts meet it: names resolve without `marts.` on every read-only
connection, `subops tables` and `subops describe` show the warehouse's own descriptions, and the
documented ways to open the file (Python, DuckDB CLI) work as written."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from pipelines import cli
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse.catalog import (
    TableNotFoundError,
    describe_table,
    list_tables,
    one_line,
)
from pipelines.warehouse.readonly import (
    DUCKDB_CLI,
    SEARCH_PATH,
    connect,
    connect_readonly,
    run_read_only_query,
)

MRR_DOC = "MRR per account and month. Zero months kept."
COLUMN_DOCS = {
    "account_id": "Account (part of the key).",
    "month": "First day of the month (part of the key).",
    "mrr_usd": "MRR in the reporting currency; NULL when no rate.",
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published layout with documented marts (as dbt's persist_docs leaves them), an audit
    schema whose `runs` shadows nothing, and a raw table."""
    wh = tmp_path_factory.mktemp("wh")
    build = wh / "builds" / "b1.duckdb"
    build.parent.mkdir()
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA audit; CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE marts.fct_mrr_monthly AS SELECT 'A' || range AS account_id, "
            "DATE '2026-01-01' AS month, 100.5::DECIMAL(38, 10) AS mrr_usd FROM range(3)"
        )
        con.execute(f"COMMENT ON TABLE marts.fct_mrr_monthly IS '{MRR_DOC}'")
        for column, doc in COLUMN_DOCS.items():
            con.execute(f"COMMENT ON COLUMN marts.fct_mrr_monthly.{column} IS '{doc}'")
        con.execute("CREATE TABLE marts.dim_plans AS SELECT 'P1' AS plan_id")
        con.execute("COMMENT ON TABLE marts.dim_plans IS 'The price book, one row per plan.'")
        con.execute(
            "CREATE TABLE marts.mrr_bridge_monthly AS SELECT DATE '2026-01-01' AS month, "
            "301.5::DECIMAL(38, 10) AS closing_mrr_usd"
        )
        con.execute("COMMENT ON TABLE marts.mrr_bridge_monthly IS 'MRR bridge.'")
        con.execute("CREATE TABLE audit.runs AS SELECT 'r1' AS run_id, 'published' AS status")
        con.execute("CREATE TABLE audit.dim_plans AS SELECT 'shadowed by marts' AS x")
        con.execute("CREATE TABLE raw.billing__usage AS SELECT 1 AS usage_id")
    (wh / "current.duckdb").symlink_to("builds/b1.duckdb")
    return wh


@pytest.fixture
def invoke(warehouse: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a `subops` command in-process on a wide console; (exit code, stdout + stderr)."""
    monkeypatch.setattr(cli, "console", Console(width=200, force_terminal=False))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli.app, list(args), env={"SUBOPS_WAREHOUSE_DIR": str(warehouse)})
        return result.exit_code, result.output + (str(result.exception or ""))

    return run


def query(warehouse: Path, sql: str) -> list[tuple]:
    return run_read_only_query(
        warehouse / "current.duckdb", sql, memory_limit="256MB", timeout_seconds=30
    ).rows


# --- names resolve ------------------------------------------------------------------------------


def test_show_tables_lists_the_marts_and_unqualified_names_resolve(warehouse: Path):
    shown = {r[0] for r in query(warehouse, "show tables")}
    assert {"fct_mrr_monthly", "dim_plans", "runs"} <= shown
    assert query(warehouse, "select count(*) from fct_mrr_monthly") == [(3,)]
    assert query(warehouse, "select status from runs") == [("published",)]  # audit, second
    assert query(warehouse, "select plan_id from dim_plans") == [("P1",)]  # marts first
    assert query(warehouse, "select usage_id from raw.billing__usage") == [(1,)]


def test_search_path_set_and_settings_still_locked(warehouse: Path):
    with contextlib.closing(connect_readonly(warehouse / "current.duckdb")) as con:
        assert con.execute("select current_setting('search_path')").fetchall() == [
            (",".join(SEARCH_PATH),)
        ]
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET memory_limit = '64GB'")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")


def test_a_warehouse_without_audit_still_opens(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "current.duckdb")) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 1 AS a")
    assert query(tmp_path, "select a from t") == [(1,)]


def test_python_helper_opens_the_published_warehouse(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    with connect(warehouse) as con:
        assert con.execute("select count(*) from fct_mrr_monthly").fetchall() == [(3,)]
        with pytest.raises(duckdb.Error):
            con.execute("create table marts.x (a int)")
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(warehouse))
    with connect() as con:  # the setting's folder by default
        assert con.execute("select count(*) from dim_plans").fetchall() == [(1,)]


def test_readme_documents_both_ways_to_open_the_file(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    """The README's Python snippet runs as written (money stays Decimal); its CLI line is ours."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert DUCKDB_CLI in readme
    assert f"SET search_path='{','.join(SEARCH_PATH)}'" in DUCKDB_CLI
    snippets = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    (snippet,) = [s for s in snippets if "from pipelines.warehouse.readonly import connect" in s]
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(warehouse))
    scope: dict[str, object] = {}
    exec(snippet, scope)  # the README's own code
    assert scope["mrr"].rows() == [(dt.date(2026, 1, 1), Decimal("301.5"))]


# --- subops tables / describe -------------------------------------------------------------------


def test_tables_lists_marts_with_descriptions_and_rows(warehouse: Path, invoke):
    found = list_tables(warehouse / "current.duckdb")
    assert [(t.name, t.rows, t.summary) for t in found] == [
        ("dim_plans", 1, "The price book, one row per plan."),
        ("fct_mrr_monthly", 3, "MRR per account and month."),
        ("mrr_bridge_monthly", 1, "MRR bridge."),
    ]
    code, out = invoke("tables")
    assert code == 0, out
    assert re.search(r"fct_mrr_monthly\s*│\s*3\s*│ MRR per account and month\.", out)
    assert "runs" not in out and "billing__usage" not in out
    code, out = invoke("tables", "--schema", "audit")
    assert code == 0 and "runs" in out, out


def test_tables_refuses_a_schema_off_the_allow_list(invoke):
    code, out = invoke("tables", "--schema", "main; drop table x")
    assert code == 1
    assert "--schema must be one of marts, audit, quarantine, raw" in out


def test_describe_shows_columns_types_and_descriptions(warehouse: Path, invoke):
    d = describe_table(warehouse / "current.duckdb", "fct_mrr_monthly")
    assert (d.schema, d.name, d.kind, d.rows, d.description) == (
        "marts",
        "fct_mrr_monthly",
        "table",
        3,
        MRR_DOC,
    )
    assert [(c.name, c.data_type, c.description) for c in d.columns] == [
        ("account_id", "VARCHAR", COLUMN_DOCS["account_id"]),
        ("month", "DATE", COLUMN_DOCS["month"]),
        ("mrr_usd", "DECIMAL(38,10)", COLUMN_DOCS["mrr_usd"]),
    ]
    code, out = invoke("describe", "fct_mrr_monthly")
    assert code == 0, out
    assert "marts.fct_mrr_monthly (3 rows)" in out and MRR_DOC in out
    for column, doc in COLUMN_DOCS.items():
        assert re.search(rf"{column}\s*│ \S+\s*│ {re.escape(doc)}", out), out


def test_describe_follows_the_search_path_and_qualified_names(warehouse: Path):
    path = warehouse / "current.duckdb"
    assert describe_table(path, "dim_plans").schema == "marts"  # marts before audit
    assert describe_table(path, "audit.dim_plans").columns[0].name == "x"
    assert describe_table(path, "runs").schema == "audit"
    assert describe_table(path, "RAW.Billing__Usage").name == "billing__usage"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("fct_mrr", "did you mean fct_mrr_monthly?"),
        ("billing__usage", "`subops tables` lists the marts"),  # raw: not on the search path
        ("fct_mrr_monthly'; drop table marts.dim_plans; --", "no table or view"),
    ],
)
def test_describe_of_an_unknown_name_is_one_line(warehouse: Path, invoke, name: str, hint: str):
    with pytest.raises(TableNotFoundError, match=re.escape(hint)):
        describe_table(warehouse / "current.duckdb", name)
    code, out = invoke("describe", name)
    assert code == 1 and hint in out
    assert describe_table(warehouse / "current.duckdb", "dim_plans").rows == 1


def test_one_line_keeps_the_first_sentence_within_the_width():
    assert one_line("R6 churn per month. Rates are fractions.\n") == "R6 churn per month."
    assert one_line("a (0.25 = 25 %) b. c") == "a (0.25 = 25 %) b."
    long = "word " * 40
    cut = one_line(long, width=30)
    assert cut.endswith("…") and len(cut) <= 30 and "\n" not in cut
    assert one_line("") == ""
