"""The Dagster instance configuration subops expects in DAGSTER_HOME."""

from __future__ import annotations

from pathlib import Path

from pipelines.defs.resources import WRITER_TAG

#: Telemetry off; at most one run holding the writer tag at a time (run queue, used by
#: `dagster dev` / the daemon). In-process builds (`run_build`) take a file lock instead. The
#: writer steps also share the pool WRITER_POOL: set `concurrency: pools: default_limit: 1`
#: where a daemon frees slots of crashed runs (without one, a killed run can hold its slot).
DAGSTER_YAML = f"""telemetry:
  enabled: false
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "{next(iter(WRITER_TAG))}"
        limit: 1
"""


def ensure_dagster_home(home: Path) -> Path:
    """Create DAGSTER_HOME with subops' dagster.yaml (kept if one exists)."""
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML)
    return home
