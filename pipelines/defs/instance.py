"""The Dagster instance configuration subops expects in DAGSTER_HOME."""

from __future__ import annotations

from pathlib import Path

from pipelines.defs.resources import WRITER_TAG

#: Telemetry off; at most one run holding the writer tag at a time (run queue, used by
#: `dagster dev` / the daemon). In-process builds (`run_build`) take a file lock instead. The
#: writer steps also share the pool WRITER_POOL: set `concurrency: pools: default_limit: 1`
#: where a daemon frees slots of crashed runs (without one, a killed run can hold its slot).
#: Run monitoring (daemon): a run still going after 6 hours is stopped, so a run whose process
#: died (a crash, a kill) cannot hold the one-run queue for ever.
DAGSTER_YAML = f"""telemetry:
  enabled: false
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "{next(iter(WRITER_TAG))}"
        limit: 1
run_monitoring:
  enabled: true
  max_runtime_seconds: {6 * 3600}
"""
#: What earlier versions wrote (still ours: switched like the current ones).
_EARLIER_YAMLS = (
    f"""telemetry:
  enabled: false
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "{next(iter(WRITER_TAG))}"
        limit: 1
""",
)

#: The environment variable Dagster reads the PostgreSQL URL from: the URL (a secret) is never
#: written into dagster.yaml.
PG_URL_ENV = "SUBOPS_DAGSTER_PG_URL"

#: Runs, event logs and schedule state in PostgreSQL (dagster-postgres), for `subops serve`.
DAGSTER_YAML_POSTGRES = (
    DAGSTER_YAML
    + f"""storage:
  postgres:
    postgres_url:
      env: {PG_URL_ENV}
"""
)


def ensure_dagster_home(home: Path, *, postgres: bool | None = None) -> Path:
    """Create DAGSTER_HOME with subops' dagster.yaml: SQLite storage in the folder, or
    PostgreSQL when `postgres` (SUBOPS_DAGSTER_PG_URL is set; None: as it is, SQLite when new).
    A dagster.yaml subops wrote is switched between the two; one edited by hand is kept."""
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    current = cfg.read_text() if cfg.exists() else None
    if current is None:
        cfg.write_text(DAGSTER_YAML_POSTGRES if postgres else DAGSTER_YAML)
    elif postgres is not None and current in (DAGSTER_YAML, DAGSTER_YAML_POSTGRES, *_EARLIER_YAMLS):
        want = DAGSTER_YAML_POSTGRES if postgres else DAGSTER_YAML
        if current != want:
            cfg.write_text(want)
    return home
