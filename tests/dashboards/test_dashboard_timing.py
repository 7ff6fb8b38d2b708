"""The page-timing harness stays runnable: it renders every page, records the queries each runs
and replays them. Times are printed by `python -m dashboards.timing`, never asserted."""

from __future__ import annotations

from pathlib import Path

from dashboards import timing


def test_every_page_is_timed_with_the_queries_it_runs(warehouse_dir: Path) -> None:
    rows = timing.measure(warehouse_dir, repeats=1)
    assert [r["page"] for r in rows] == [Path(p).stem for p in timing.PAGES]
    assert all(r["queries"] > 0 and r["p95_ms"] >= r["median_ms"] > 0 for r in rows), rows
    account = next(r for r in rows if r["page"] == "account_360")
    assert account["queries"] > 5  # opened on an account, so its sections ran
