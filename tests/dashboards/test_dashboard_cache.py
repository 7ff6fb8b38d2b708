"""The cache key follows the published file: a new build swapped in is read on the next rerun."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from pipeline_warehouse import copy_warehouse, execute

from dashboards.lib import cache, queries


def test_locate_none_without_a_published_file(empty_warehouse_dir: Path) -> None:
    assert cache.locate() is None


def test_new_build_is_picked_up(
    warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = tmp_path / "builds"
    first = copy_warehouse(warehouse_dir, builds).rename(builds / "b1.duckdb")
    current = tmp_path / "current.duckdb"
    current.symlink_to(first)
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))

    wh1 = cache.locate()
    assert wh1 is not None and wh1.resolved == first.resolve()
    runs1 = cache.query(wh1, "runs_history")
    assert cache.query(wh1, "runs_history").equals(runs1)  # served from the cache

    second = builds / "b2.duckdb"
    shutil.copy(first, second)
    execute(second, "INSERT INTO audit.runs (run_id, status) VALUES ('run-0004', 'published')")
    tmp_link = tmp_path / "current.tmp"
    tmp_link.symlink_to(second)
    os.replace(tmp_link, current)  # atomic publish

    wh2 = cache.locate()
    assert wh2 is not None and wh2 != wh1
    assert "run-0004" in set(cache.query(wh2, "runs_history")["run_id"])


def test_unknown_query_name_refused(warehouse: Path) -> None:
    wh = cache.locate()
    assert wh is not None
    with pytest.raises(queries.NotAllowedError):
        cache.query(wh, "drop_everything")
