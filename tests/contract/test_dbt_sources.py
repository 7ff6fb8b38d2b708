"""The committed dbt sources and staging views equal their rendering from the contract."""

from pipelines.contract.dbt_sources import render_sources
from pipelines.contract.tables import TABLES
from pipelines.paths import DBT_PROJECT_DIR


def test_every_contract_table_has_a_source_and_a_staging_view():
    files = render_sources()
    for t in TABLES:
        assert f"models/staging/{t.source}/stg_{t.source}__{t.name}.sql" in files
        assert (
            f"identifier: {t.raw_table}"
            in files[f"models/staging/{t.source}/_{t.source}__sources.yml"]
        )


def test_committed_files_equal_the_rendering():
    stale = [
        rel
        for rel, text in render_sources().items()
        if not (DBT_PROJECT_DIR / rel).exists() or (DBT_PROJECT_DIR / rel).read_text() != text
    ]
    assert not stale, f"run `python -m pipelines.contract.dbt_sources`; stale: {stale}"
