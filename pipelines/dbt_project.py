"""The dbt project as the build calls it: its manifest, its vars and the file it writes to.

The one way to prepare the manifest (`dbt parse`): `make manifest` and `subops dev` run
`python -m pipelines.dbt_project`; the Dagster definitions call `ensure_manifest()`, which parses
only when a dbt file changed since (dagster-dbt reads the manifest when the definitions load).
No Dagster here: storage and the CLI use it too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from pipelines.paths import DBT_PROJECT_DIR
from pipelines.settings import Settings

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
#: Files whose change makes the manifest stale (folders too: a deleted model changes its folder).
_SOURCES = ("models", "macros", "seeds", "tests", "snapshots", "dbt_project.yml", "profiles.yml")
#: The dbt var naming the DuckDB file dbt writes (profiles.yml reads it; `--vars` reach the
#: profile). Without it dbt falls back to env SUBOPS_DBT_DUCKDB_PATH, for hand-run dbt.
DUCKDB_PATH_VAR = "duckdb_path"
#: dbt vars carrying the build's DuckDB settings into the profile's `settings:` (same bounds as
#: the loader's connections: `Settings.build_duckdb_config`).
DUCKDB_SETTING_VARS = {
    "memory_limit": "duckdb_memory_limit",
    "threads": "duckdb_threads",
    "temp_directory": "duckdb_temp_directory",
}
#: The dbt var carrying `project_digest()`: the incremental facts rebuild whole when it changes.
PROJECT_DIGEST_VAR = "project_digest"
#: What the models compute with (docs and tests excluded: they change no row).
_CODE = ("models", "macros", "seeds", "snapshots", "dbt_project.yml")


def dbt_executable() -> Path:
    """dbt from this interpreter's environment (the venv need not be on PATH)."""
    return Path(sys.executable).with_name("dbt")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _SOURCES:
        p = DBT_PROJECT_DIR / name
        for f in (p, *p.rglob("*")) if p.is_dir() else (p,):
            if f.exists():
                newest = max(newest, f.stat().st_mtime)
    return newest


def manifest_is_fresh() -> bool:
    return MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime()


def parse_manifest() -> Path:
    """`dbt parse`: target/manifest.json from the project's files. Raises with dbt's last lines."""
    proc = subprocess.run(
        [str(dbt_executable()), "parse", "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip()[-800:]
        raise RuntimeError(f"dbt parse failed in {DBT_PROJECT_DIR} — fix the dbt project: {tail}")
    return MANIFEST


def ensure_manifest() -> Path:
    """The manifest, re-parsed when a dbt file changed since it was written."""
    return MANIFEST if manifest_is_fresh() else parse_manifest()


def dbt_vars(settings: Settings, as_of: dt.date) -> dict[str, str]:
    """Every var of dbt_project.yml, from the settings (their defaults live in `Settings` only;
    dbt_project.yml's are for dbt run by hand, and a test holds them equal)."""
    return {
        "as_of_date": str(as_of),
        "reporting_currency": settings.reporting_currency,
        "support_cost_per_minute": str(settings.support_cost_per_minute),
        "services_cost_per_hour": str(settings.services_cost_per_hour),
    }


def project_digest() -> str:
    """sha256 of the dbt project's code (SQL, seeds, dbt_project.yml). A warehouse whose
    incremental facts were computed by other code gets them rebuilt whole (dbt_project/README.md,
    "Incremental facts"); dbt alone sees model changes but not macro changes."""
    h = hashlib.sha256()
    for name in _CODE:
        p = DBT_PROJECT_DIR / name
        files = sorted(p.rglob("*")) if p.is_dir() else [p]
        for f in files:
            if f.is_file() and (f.suffix in (".sql", ".csv") or f == p):
                h.update(f.relative_to(DBT_PROJECT_DIR).as_posix().encode() + b"\0")
                h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def build_vars(settings: Settings, as_of: dt.date, duckdb_path: Path) -> dict[str, str]:
    """The `--vars` of a build's `dbt build`: the project's vars, the build file to write,
    DuckDB's bounds for it and the digest of the project's code."""
    bounds = settings.build_duckdb_config(duckdb_path)
    return {
        **dbt_vars(settings, as_of),
        DUCKDB_PATH_VAR: str(duckdb_path),
        **{var: bounds[name] for name, var in DUCKDB_SETTING_VARS.items()},
        PROJECT_DIGEST_VAR: project_digest(),
    }


def main() -> int:
    """`make manifest`: parse now (a fresh clone has no manifest; CI parses every time)."""
    try:
        parse_manifest()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
