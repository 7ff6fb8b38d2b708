"""Fixtures: the fixture warehouse (see dashboard_warehouse.py) and SUBOPS_WAREHOUSE_DIR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_warehouse import build_warehouse


@pytest.fixture(scope="session")
def warehouse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose current.duckdb holds the v1 marts (later-issue marts absent)."""
    d = tmp_path_factory.mktemp("warehouse")
    build_warehouse(d / "current.duckdb")
    return d


@pytest.fixture(scope="session")
def full_warehouse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like `warehouse_dir`, plus ar_aging, collections, margin and billing exceptions."""
    d = tmp_path_factory.mktemp("warehouse_full")
    build_warehouse(d / "current.duckdb", later_marts=True)
    return d


@pytest.fixture
def warehouse(warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """SUBOPS_WAREHOUSE_DIR points at the fixture; yields the current.duckdb path."""
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(warehouse_dir))
    yield warehouse_dir / "current.duckdb"


@pytest.fixture
def full_warehouse(full_warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """As `warehouse`, with the later-issue marts present."""
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(full_warehouse_dir))
    yield full_warehouse_dir / "current.duckdb"


@pytest.fixture
def empty_warehouse_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SUBOPS_WAREHOUSE_DIR points at an empty folder: nothing published yet."""
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    return tmp_path
