"""Write-audit-publish mechanics as plain functions (fast): build files, atomic switch, prune."""

from __future__ import annotations

import contextlib
import datetime as dt
import os

import duckdb
import pytest

from pipelines.settings import get_settings
from pipelines.warehouse.publish import (
    find_build,
    prepare_build,
    publish,
    record_run,
    writer_lock,
)
from pipelines.warehouse.readonly import connect_readonly

AS_OF = dt.date(2026, 1, 2)


@pytest.fixture
def settings(tmp_path):
    return get_settings(
        landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh", keep_builds=2
    )


def _mark(path, value: str) -> None:
    with contextlib.closing(duckdb.connect(str(path))) as con:
        con.execute("CREATE TABLE IF NOT EXISTS raw.marker (v VARCHAR)")
        con.execute("INSERT INTO raw.marker VALUES ($v)", {"v": value})


def _markers(path) -> list[str]:
    with contextlib.closing(connect_readonly(path)) as con:
        return [r[0] for r in con.execute("SELECT v FROM raw.marker ORDER BY 1").fetchall()]


def test_publish_switches_symlink_and_records_run(settings):
    b1 = prepare_build(settings, "run-aaaaaaaa-1", full_refresh=True, as_of=AS_OF)
    assert find_build(settings, "run-aaaaaaaa-1") == b1
    assert b1.parent == settings.builds_dir and b1.name.endswith("-run-aaaa.duckdb")
    _mark(b1, "one")
    publish(settings, b1, "run-aaaaaaaa-1")
    cur = settings.current_warehouse
    assert cur.is_symlink() and cur.resolve() == b1.resolve()
    assert not os.path.isabs(os.readlink(cur))  # relative: the folder can move
    with contextlib.closing(connect_readonly(cur)) as con:
        runs = con.execute("SELECT status, warehouse_version, as_of_date FROM audit.runs")
        assert runs.fetchall() == [("published", 1, AS_OF)]

    # incremental: a copy of current; history travels with the file
    b2 = prepare_build(settings, "run-bbbbbbbb-2", full_refresh=False, as_of=AS_OF)
    _mark(b2, "two")
    publish(settings, b2, "run-bbbbbbbb-2")
    assert _markers(cur) == ["one", "two"]
    with contextlib.closing(connect_readonly(cur)) as con:
        assert con.execute(
            "SELECT max(warehouse_version), count(*) FROM audit.runs"
        ).fetchall() == [(2, 2)]
    assert _markers(b1) == ["one"]  # the published file was never written again


def test_failed_build_leaves_current_and_says_why(settings):
    b1 = prepare_build(settings, "run-11111111", full_refresh=True, as_of=AS_OF)
    _mark(b1, "good")
    publish(settings, b1, "run-11111111")
    b2 = prepare_build(settings, "run-22222222", full_refresh=False, as_of=AS_OF)
    _mark(b2, "bad")
    record_run(b2, run_id="run-22222222", status="failed", failure_reason="checks failed")
    assert settings.current_warehouse.resolve() == b1.resolve()
    assert _markers(settings.current_warehouse) == ["good"]
    with contextlib.closing(connect_readonly(b2)) as con:
        assert con.execute(
            "SELECT status, failure_reason FROM audit.runs WHERE run_id = 'run-22222222'"
        ).fetchall() == [("failed", "checks failed")]


def test_prune_keeps_last_builds_and_current(settings):
    paths = []
    for i in range(4):
        run = f"run{i:05d}x"
        paths.append(
            prepare_build(
                settings,
                run,
                full_refresh=True,
                as_of=AS_OF,
                started_at=dt.datetime(2026, 1, 1, 0, 0, i),
            )
        )
        if i == 0:
            publish(settings, paths[0], run)
    # publishing the last one prunes down to keep_builds=2 (+ nothing else)
    publish(settings, paths[3], "run00003x")
    left = sorted(p.name for p in settings.builds_dir.glob("*.duckdb"))
    assert left == sorted([paths[2].name, paths[3].name])


def test_full_refresh_keeps_run_history(settings):
    b1 = prepare_build(settings, "hist0001-a", full_refresh=True, as_of=AS_OF)
    publish(settings, b1, "hist0001-a")
    b2 = prepare_build(settings, "hist0002-b", full_refresh=True, as_of=AS_OF)
    publish(settings, b2, "hist0002-b")
    with contextlib.closing(connect_readonly(settings.current_warehouse)) as con:
        assert con.execute("SELECT warehouse_version FROM audit.runs ORDER BY 1").fetchall() == [
            (1,),
            (2,),
        ]


def test_one_writer_at_a_time(settings):
    with (
        writer_lock(settings),
        pytest.raises(RuntimeError, match="another build"),
        writer_lock(settings),
    ):
        pass
