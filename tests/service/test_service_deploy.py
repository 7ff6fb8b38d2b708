"""Deployment files, parsed without Docker or systemd: the Dockerfile (instructions), compose.yaml
(yaml), the systemd units (ini), dagster.yaml for PostgreSQL (Dagster's own schema), the Makefile
target, and docs/deploy.md naming every setting the service and its files use."""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from pathlib import Path

import yaml

from pipelines.defs.instance import (
    DAGSTER_YAML,
    DAGSTER_YAML_POSTGRES,
    PG_URL_ENV,
    ensure_dagster_home,
)
from pipelines.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOC = ROOT / "docs" / "deploy.md"
VOLUMES = ("/var/lib/subops/landing", "/var/lib/subops/warehouse")


def dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction: comments dropped, continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, args = full.partition(" ")
        out.append((word.upper(), args.strip()))
    assert not pending, "a continuation line ends the file"
    return out


def test_dockerfile_builds_one_image_running_subops_serve():
    steps = dockerfile(DEPLOY / "Dockerfile")
    known = {"FROM", "ENV", "RUN", "WORKDIR", "COPY", "USER", "VOLUME", "EXPOSE"}
    known |= {"HEALTHCHECK", "STOPSIGNAL", "CMD", "ARG", "LABEL"}
    assert {w for w, _ in steps} <= known
    first = steps[0]
    assert first[0] == "FROM" and first[1].startswith("python:3.11")
    assert sum(w == "FROM" for w, _ in steps) == 1
    assert steps[-1] == ("CMD", '["subops", "serve"]') and json.loads(steps[-1][1])
    args = {w: a for w, a in steps}  # the last of each
    assert args["USER"] not in ("root", "0")
    assert set(json.loads(args["VOLUME"])) >= set(VOLUMES)
    assert set(args["EXPOSE"].split()) == {"3000", "8501"}
    assert "/server_info" in args["HEALTHCHECK"] and "/_stcore/health" in args["HEALTHCHECK"]
    runs = " ".join(a for w, a in steps if w == "RUN")
    assert "uv sync --frozen --no-dev --extra postgres" in runs  # from uv.lock, extra included
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pg = next(d for d in extra["optional-dependencies"]["postgres"] if "dagster-postgres" in d)
    pin = re.fullmatch(r"dagster-postgres==([\d.]+)", pg)
    assert (
        pin
        and f'name = "dagster-postgres"\nversion = "{pin.group(1)}"'
        in (ROOT / "uv.lock").read_text()
    )
    # the same release family as dagster: dagster-dbt's version (dagster 1.13.27 ~ 0.29.27)
    dbt_pin = next(d for d in extra["dependencies"] if d.startswith("dagster-dbt=="))
    assert dbt_pin.split("==")[1] == pin.group(1)
    for source in ("pipelines", "dashboards", "dbt_project", "pyproject.toml", "uv.lock"):
        assert any(w == "COPY" and source in a for w, a in steps), source


def test_compose_runs_the_image_with_volumes_and_postgres():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    app = compose["services"]["subops"]
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).resolve() == (
        DEPLOY / "Dockerfile"
    ).resolve()
    assert app["command"] == ["subops", "serve"]
    assert app["restart"] == "unless-stopped" and app["init"] is True
    mounts = {re.sub(r"\$\{[^}]*\}", "HOST", v).split(":")[1] for v in app["volumes"]}
    assert set(VOLUMES) <= mounts
    env = app["environment"]
    assert env["SUBOPS_DAGSTER_PG_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in env["SUBOPS_DAGSTER_PG_URL"]
    assert "postgres" in compose["services"] and "postgres" in app["depends_on"]
    published = {p.rsplit(":", 1)[1] for p in app["ports"]}
    assert published == {env["SUBOPS_DAGSTER_PORT"], env["SUBOPS_DASHBOARD_PORT"]}
    assert set(compose["volumes"]) == {"dagster_home", "postgres"}


def test_systemd_unit_runs_serve_and_restarts_it():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / "subops.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("/subops serve")
    assert service["Restart"] == "on-failure"
    assert service["KillMode"] == "mixed" and service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    timer = configparser.ConfigParser(interpolation=None)
    timer.read(DEPLOY / "systemd" / "subops-backup.timer")
    assert timer["Timer"]["OnCalendar"]


def test_make_serve_calls_subops_serve():
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"^serve: .*\n\t\$\(BIN\)/subops serve$", text, re.M)


def test_dagster_yaml_switches_to_postgres_without_writing_the_url(tmp_path):
    from dagster._config import validate_config
    from dagster._core.instance.config import dagster_instance_config_schema

    home = ensure_dagster_home(tmp_path / "dh")
    cfg = home / "dagster.yaml"
    assert cfg.read_text() == DAGSTER_YAML
    ensure_dagster_home(home)  # None: as it is
    assert cfg.read_text() == DAGSTER_YAML
    ensure_dagster_home(home, postgres=True)
    text = cfg.read_text()
    assert text == DAGSTER_YAML_POSTGRES and f"env: {PG_URL_ENV}" in text
    assert "postgresql://" not in text
    for y in (DAGSTER_YAML, DAGSTER_YAML_POSTGRES):
        assert validate_config(dagster_instance_config_schema(), yaml.safe_load(y)).success
    ensure_dagster_home(home, postgres=False)
    assert cfg.read_text() == DAGSTER_YAML
    cfg.write_text(DAGSTER_YAML + "# edited by hand\n")
    ensure_dagster_home(home, postgres=True)
    assert cfg.read_text().endswith("# edited by hand\n")  # kept


def _settings_used() -> set[str]:
    """Every SUBOPS_* name in the deploy files and the service code, and the env name of every
    setting the service code reads (`settings.<field>`)."""
    files = [p for p in DEPLOY.rglob("*") if p.is_file()]
    code = [*(ROOT / "pipelines" / "service").glob("*.py"), ROOT / "pipelines/defs/schedules.py"]
    names: set[str] = set()
    for f in [*files, *code]:
        text = f.read_text()
        names |= set(re.findall(r"\bSUBOPS_[A-Z0-9_]+\b", text))
        if f.suffix == ".py":
            names |= {
                f"SUBOPS_{field.upper()}"
                for field in re.findall(r"\bsettings\.([a-z_]+)\b", text)
                if field in Settings.model_fields
            }
    return names


def test_deploy_doc_names_every_setting_used():
    doc = DOC.read_text()
    used = _settings_used()
    assert {"SUBOPS_SCHEDULE_ENABLED", "SUBOPS_ALERT_WEBHOOK_URL", "SUBOPS_SMTP_PASSWORD"} <= used
    missing = sorted(n for n in used if n not in doc)
    assert not missing, f"docs/deploy.md does not name {missing}"
    for heading in ("First deployment", "Upgrades", "Backups", "object storage"):
        assert heading in doc, heading
