"""Shared by several test folders: landing_fixture importable, and a tmp DAGSTER_HOME."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# landing_fixture (hand-made landing folders) lives with the loader tests; warehouse and dagster
# tests build on the same folders.
sys.path.insert(0, str(Path(__file__).parent / "ingest"))


#: A memory-backed folder for the session's DAGSTER_HOME when the machine has one. Dagster's
#: SQLite event log commits every event on its own (~1,900 per build), and each commit waits for
#: the disk: on a virtual disk that is ~13 s of a 50 s test build. In memory the code path is the
#: same (SQLite, subops' dagster.yaml), without the waits. The folder is removed at the end.
RAM_DIR = Path("/dev/shm")


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """DAGSTER_HOME in a tmp folder for the session, so no test writes to ~/.dagster or data/."""
    from pipelines.defs.instance import ensure_dagster_home

    in_ram = RAM_DIR.is_dir() and os.access(RAM_DIR, os.W_OK)
    folder = (
        Path(tempfile.mkdtemp(prefix="subops-dagster-home-", dir=RAM_DIR))
        if in_ram
        else tmp_path_factory.mktemp("dagster_home")
    )
    home = ensure_dagster_home(folder)
    old = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = old
    if in_ram:
        shutil.rmtree(folder, ignore_errors=True)


#: Seconds the slow test modules take in a full run (setup included), measured with
#: `pytest --durations`. `make test` runs `--dist loadfile --no-loadscope-reorder`: the two
#: workers take whole modules in collection order, so the longest start first and the many
#: short ones fill the gaps at the end (longest-processing-time-first). The dashboards module
#: listed builds the session warehouse the other dashboard modules then reuse.
SLOW_MODULES: dict[str, int] = {
    "tests/bench/test_bench_quick.py": 200,
    "tests/warehouse/test_build_generated.py": 135,
    "tests/warehouse/test_build.py": 140,
    "tests/dashboards/test_dashboard_app.py": 100,
    "tests/reliability/test_failures.py": 90,
    "tests/reliability/test_hostile_build.py": 85,
    "tests/mapping/test_roundtrip.py": 80,
    "tests/warehouse/test_ops_marts_generated.py": 75,
    "tests/reliability/test_implausible.py": 58,
    "tests/dagster/test_definitions.py": 50,
    "tests/reliability/test_incremental_marts.py": 45,
    "tests/dashboards/test_dashboard_browser.py": 45,
    "tests/dbt/test_dbt_build_mid_month.py": 35,
    "tests/dbt/test_dbt_build.py": 32,
    "tests/service/test_service_serve.py": 30,
    "tests/dbt/test_mrr_playbook.py": 30,
    "tests/service/test_service_schedules.py": 20,
    "tests/reliability/test_semantic_layer.py": 16,
    "tests/reliability/test_incremental.py": 10,
}


def pytest_configure(config: pytest.Config) -> None:
    """Pages run in-process (AppTest) with the dashboard's own runner options."""
    from dashboards.timing import use_app_config

    use_app_config()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest modules first (a stable sort: tests keep their order within a module). A module
    of the list that no longer exists stops the run: renamed, it would lose its place."""
    root = Path(__file__).resolve().parents[1]
    missing = [m for m in SLOW_MODULES if not (root / m).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py SLOW_MODULES names missing modules {missing}")
    items.sort(key=lambda item: -SLOW_MODULES.get(item.nodeid.split("::")[0], 0))
