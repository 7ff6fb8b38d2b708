"""The dbt project as Dagster sees it. Its own module, cheap to import: the manifest is prepared
(`dbt parse`) only when missing or older than the project's files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

subops_dbt = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

_SOURCES = ("models", "macros", "seeds", "tests", "snapshots", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _SOURCES:
        p = DBT_PROJECT_DIR / name
        files = [p] if p.is_file() else (p.rglob("*") if p.is_dir() else [])
        for f in files:
            if f.is_file():
                newest = max(newest, f.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """target/manifest.json, re-parsed when a dbt file changed since (dagster-dbt reads it at
    import time; the dbt project is edited in parallel)."""
    manifest = subops_dbt.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime():
        return manifest
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [str(dbt), "parse", "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt parse failed: {(proc.stdout + proc.stderr).strip()[-800:]}")
    return manifest
