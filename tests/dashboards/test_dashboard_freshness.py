"""Freshness per source and top quarantine reasons per table (Data quality page) on the warehouse
the real pipeline built: the figures are audit.load_log's and quarantine.*'s, a table whose
latest extract is older than the limit is flagged, and the page shows both."""

from __future__ import annotations

from pathlib import Path

import pipeline_warehouse
from pipeline_warehouse import copy_warehouse, execute
from streamlit.testing.v1 import AppTest

from dashboards.lib import queries

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"


def _sql(path: Path, sql: str) -> list[tuple]:
    return pipeline_warehouse.rows(path, sql)


def test_freshness_is_the_latest_live_extract_of_each_table(warehouse: Path) -> None:
    fresh = queries.source_freshness(warehouse)
    direct = _sql(
        warehouse,
        'SELECT source, "table", max(extract_id), count(*) FROM audit.load_log '
        "WHERE status NOT IN ('superseded', 'rejected') GROUP BY ALL",
    )
    assert sorted(
        zip(
            fresh["source"], fresh["table"], fresh["latest_extract_id"], fresh["files"], strict=True
        )
    ) == sorted(direct)
    (as_of,) = _sql(warehouse, "SELECT as_of_date FROM audit.build_info")[0]
    for row in fresh.itertuples():
        assert row.extract_date.isoformat() == row.latest_extract_id[:10]
        assert row.age_days == (as_of - row.extract_date).days
        assert row.stale == (row.age_days > queries.STALE_AFTER_DAYS)


def test_an_old_extract_is_flagged(warehouse_dir: Path, tmp_path: Path) -> None:
    """Moving the as-of date a week on makes every table stale (an edited copy of the build)."""
    path = copy_warehouse(warehouse_dir, tmp_path)
    execute(path, "UPDATE audit.build_info SET as_of_date = as_of_date + 7")
    fresh = queries.source_freshness(path)
    assert fresh["stale"].all() and (fresh["age_days"] >= 7).all()


def test_top_reasons_add_up_to_the_quarantine(warehouse: Path) -> None:
    top = queries.quarantine_top_reasons(warehouse, top=1000)
    (rows,) = _sql(warehouse, "SELECT count(*) FROM quarantine.rows")[0]
    (file_rows, files) = _sql(
        warehouse, "SELECT coalesce(sum(rows_read), 0), count(*) FROM quarantine.files"
    )[0]
    assert top["rows_rejected"].sum() == rows + file_rows
    assert top["files_rejected"].sum() == files
    top3 = queries.quarantine_top_reasons(warehouse)
    assert top3.groupby(["source", "table"])["rank"].max().le(3).all()
    assert not top3.duplicated(["source", "table", "reason_code"]).any()


def test_data_quality_page_shows_freshness(warehouse: Path) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page("app_pages/data_quality.py").run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert "Freshness per source" in [s.value for s in at.subheader]
    shown = [d.value for d in at.dataframe if "latest_extract_id" in d.value]
    assert shown and len(shown[0]) == len(queries.source_freshness(warehouse))
    assert any("rows_rejected" in d.value and "rank" in d.value for d in at.dataframe)


def test_superseded_files_do_not_count(warehouse_dir: Path, tmp_path: Path) -> None:
    """A newer extract that a later one superseded is not the table's latest."""
    path = copy_warehouse(warehouse_dir, tmp_path)
    execute(
        path,
        'INSERT INTO audit.load_log (source, "table", file, extract_id, status) '
        "VALUES ('crm', 'accounts', 'crm/accounts/2099-01-01.csv', '2099-01-01', 'superseded')",
    )
    fresh = queries.source_freshness(path).set_index(["source", "table"])
    assert fresh.loc[("crm", "accounts"), "latest_extract_id"] < "2099"
