"""Fixtures: the warehouse the real pipeline builds from a small generated company (once per
session, see pipeline_warehouse.py), copies of it for tests that edit, and SUBOPS_WAREHOUSE_DIR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_warehouse import copy_warehouse, execute, session_root, shared_warehouse


@pytest.fixture(scope="session")
def warehouse_dir(tmp_path_factory: pytest.TempPathFactory, dagster_home: Path) -> Path:
    """The published build's folder (`current.duckdb` → builds/…). Read-only for every test."""
    return shared_warehouse(session_root(tmp_path_factory))


@pytest.fixture(scope="session")
def eur_warehouse_dir(warehouse_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the build marked as reported in EUR (audit.build_info.reporting_currency).

    The amounts are the USD build's; what is tested is that every page shows the currency the
    build says, which is only ever read from audit.build_info."""
    d = tmp_path_factory.mktemp("warehouse_eur")
    execute(
        copy_warehouse(warehouse_dir, d), "UPDATE audit.build_info SET reporting_currency = 'EUR'"
    )
    return d


@pytest.fixture
def warehouse(warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """SUBOPS_WAREHOUSE_DIR points at the build; yields its current.duckdb path."""
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(warehouse_dir))
    yield warehouse_dir / "current.duckdb"


@pytest.fixture
def eur_warehouse(eur_warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """As `warehouse`, for the EUR-reported copy."""
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(eur_warehouse_dir))
    yield eur_warehouse_dir / "current.duckdb"


@pytest.fixture
def empty_warehouse_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SUBOPS_WAREHOUSE_DIR points at an empty folder: nothing published yet."""
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    return tmp_path
