"""Shared by several test folders: landing_fixture importable, and a tmp DAGSTER_HOME."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# landing_fixture (hand-made landing folders) lives with the loader tests; warehouse and dagster
# tests build on the same folders.
sys.path.insert(0, str(Path(__file__).parent / "ingest"))


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """DAGSTER_HOME in a tmp folder for the session, so no test writes to ~/.dagster or data/."""
    from pipelines.defs.instance import ensure_dagster_home

    home = ensure_dagster_home(tmp_path_factory.mktemp("dagster_home"))
    old = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = old
