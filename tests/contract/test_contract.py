"""The contract definition is internally consistent and its documentation is current."""

from pipelines.contract import REASON_CODES, SOURCES, TABLES, ColumnType, LoadMode, table
from pipelines.contract.docs import DOC_PATH, render
from pipelines.contract.model import (
    FILE_REJECT_REASONS,
    LANDING_REJECT_REASONS,
    RECORD_REJECT_REASONS,
    REPORT_ONLY_REASONS,
    ROW_REJECT_REASONS,
)


def test_seventeen_tables_over_five_sources():
    assert len(TABLES) == 17
    assert {t.source for t in TABLES} == set(SOURCES)
    assert len({t.qualified_name for t in TABLES}) == 17


def test_keys_versions_and_references_name_real_columns():
    names = {t.qualified_name for t in TABLES}
    for t in TABLES:
        cols = set(t.column_names)
        assert set(t.key) <= cols, t.qualified_name
        assert all(t.column(k).required for k in t.key), t.qualified_name
        if t.version:
            assert t.load_mode is LoadMode.APPEND and t.version in cols
        for c in t.columns:
            if c.type is ColumnType.ENUM:
                assert c.enum and all(v == v.lower() for v in c.enum)
            if c.references:
                ref_table, ref_col = c.references
                assert ref_table in names
                assert ref_col in table(ref_table).column_names
            if c.required_when:
                assert c.required_when[0] in cols


def test_reason_code_sets_partition_the_vocabulary():
    sets = (
        ROW_REJECT_REASONS,
        RECORD_REJECT_REASONS,
        FILE_REJECT_REASONS,
        LANDING_REJECT_REASONS,
        REPORT_ONLY_REASONS,
    )
    assert set().union(*sets) == set(REASON_CODES)
    assert sum(len(s) for s in sets) == len(REASON_CODES)


def test_raw_ddl_creates_every_column(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    con.execute("create schema raw")
    for t in TABLES:
        con.execute(t.raw_ddl())
        got = [r[0] for r in con.execute(f"describe raw.{t.raw_table}").fetchall()]
        assert got[: len(t.columns)] == list(t.column_names)
    money = con.execute(
        "select data_type from information_schema.columns "
        "where table_name = 'billing__invoices' and column_name = 'total'"
    ).fetchall()
    assert money == [("DECIMAL(18,4)",)]


def test_docs_sources_md_is_generated_from_the_contract():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/sources.md is stale: run `python -m pipelines.contract.docs`"
    )
    for t in TABLES:
        assert f"### {t.source}/{t.name}" in render()
