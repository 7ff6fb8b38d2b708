"""Every test here runs with the session's tmp DAGSTER_HOME (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _dagster_home(dagster_home: Path) -> Path:
    return dagster_home
