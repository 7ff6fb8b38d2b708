"""The dashboards' test warehouse: a small generated company, built and published by the real
pipeline (`pipelines.generate.generate` → `run_build`), so the pages are tested on the marts'
own types and vocabularies, not on a hand-written copy of them.

A build costs ~45 s (more on a busy machine), so it is made once per test session and shared:
the folder is keyed by a digest of the generator settings, the loader/orchestration code and the
dbt project, and lives under the session's tmp root; under pytest-xdist every worker asks for it,
the first one to take the file lock builds, the others wait and reuse it. Set
`DASHBOARD_TEST_CACHE=<folder>` to keep it across sessions while working on the pages (the digest
gives a new build when the pipeline changes).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The company: four dozen accounts over two years, two nightly extracts after the initial one
#: (so the as-of month is open), 1 % injected bad rows (quarantine, breaches).
GENERATOR: dict[str, object] = {
    "scale": 0.05,
    "seed": 7,
    "start": dt.date(2024, 10, 1),
    "end": dt.date(2026, 10, 31),
    "daily": 2,
    "bad_rows": 0.01,
}
#: The build's as-of date (the latest extract) and the tiles' month.
AS_OF = dt.date(2026, 11, 2)
LATEST_FULL_MONTH = dt.date(2026, 10, 1)
#: Inputs of the build whose change must give a new warehouse.
HASHED = ("pipelines", "dbt_project")
NOT_HASHED = {"target", "logs", "dbt_packages", "__pycache__", ".user.yml"}


def digest() -> str:
    """Short digest of the generator settings, the pipeline code and the dbt project."""
    h = hashlib.sha256(repr(sorted(GENERATOR.items())).encode())
    for top in HASHED:
        for f in sorted((ROOT / top).rglob("*")):
            rel = f.relative_to(ROOT)
            if f.is_file() and not NOT_HASHED.intersection(rel.parts) and f.suffix != ".pyc":
                h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's tmp root, shared by xdist workers (each worker's basetemp is inside it);
    `DASHBOARD_TEST_CACHE` when set."""
    if os.environ.get("DASHBOARD_TEST_CACHE"):
        return Path(os.environ["DASHBOARD_TEST_CACHE"])
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_warehouse(root: Path) -> Path:
    """The warehouse folder (its `current.duckdb` published), built on first call under `root`.

    Callers must have DAGSTER_HOME set (tests/conftest.py `dagster_home`). A failed build is
    recorded so the other worker of the same run fails at once instead of building again.
    """
    from pipelines.generate import generate
    from pipelines.run.build import run_build
    from pipelines.settings import get_settings

    folder = root / f"dashboards-warehouse-{digest()}"
    folder.mkdir(parents=True, exist_ok=True)
    wh, failed = folder / "wh", folder / "FAILED"
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")  # shared by the workers of one run
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if run and failed.exists() and failed.read_text().startswith(f"{run} "):
            raise RuntimeError(
                f"the dashboards' test warehouse did not build ({failed.read_text()}); "
                "the first test to ask for it shows the build's failure"
            )
        if (wh / "current.duckdb").exists():  # published last, atomically: the build is whole
            return wh
        failed.unlink(missing_ok=True)  # an earlier session's failure: try again
        try:
            landing = folder / "landing"
            generate(landing, **GENERATOR)  # type: ignore[arg-type]
            settings = get_settings(
                landing_dir=landing, warehouse_dir=wh, reporting_currency="USD", as_of_date=AS_OF
            )
            result = run_build(settings)
            if not result.published:
                raise RuntimeError(result.failure_reason or "not published")
        except Exception as err:
            failed.write_text(f"{run} {type(err).__name__}: {err}")
            raise
    return wh


def copy_warehouse(source_dir: Path, target_dir: Path) -> Path:
    """A private, writable copy of a published warehouse as `target_dir/current.duckdb`."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "current.duckdb"
    shutil.copyfile((source_dir / "current.duckdb").resolve(), target)
    return target


def execute(path: Path, *statements: str) -> None:
    """Run statements on a warehouse copy (tests' own edits; never on the shared build)."""
    from dashboards.lib import queries

    queries.release()  # DuckDB refuses a writer beside this process's pooled readers
    with contextlib.closing(duckdb.connect(str(path))) as con:
        for sql in statements:
            con.execute(sql)


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """A test's own read of the marts, on the dashboards' pooled read-only connection (DuckDB
    refuses a second connection to a file with other settings in one process)."""
    from dashboards.lib import queries

    with queries.connection(path) as con:
        return con.execute(sql, params or []).fetchall()
