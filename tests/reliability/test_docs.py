"""The documentation stays true to the project and inside it: the rules and decisions models cite
are in docs/metrics.md, every mart's grain and columns in docs/warehouse.md (generated from the
yml), every intermediate model states its grain and tests it, the queries of docs/questions.md run
against the marts' columns, and nothing points outside the repository. No build: yml and an empty
in-memory DuckDB are enough."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
import yaml

from pipelines.warehouse.schema import BOOKKEEPING_DDL

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "dbt_project" / "models"
DOCS = ROOT / "docs"
#: what pointed outside the repository before: the shared product spec, the authors' machine,
#: documents that never were in the repo
OUTSIDE = re.compile(r"\.\./shared|shared/spec|/work/|\bthe spec\b|stack\.md|portability\.md")


def mart_docs() -> ModuleType:
    """dbt_project/scripts/mart_docs.py, a script rather than a package module."""
    spec = importlib.util.spec_from_file_location(
        "mart_docs", ROOT / "dbt_project" / "scripts" / "mart_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def repo_text_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    suffixes = {".py", ".sql", ".yml", ".yaml", ".md", ".toml", ".cfg", ".txt", ""}
    return [ROOT / f for f in out if Path(f).suffix in suffixes and (ROOT / f).is_file()]


def test_warehouse_column_reference_is_current() -> None:
    page = (DOCS / "warehouse.md").read_text()
    assert mart_docs().updated(page) == page, (
        "docs/warehouse.md is stale: run `python dbt_project/scripts/mart_docs.py`"
    )


def test_every_mart_is_listed_with_its_grain() -> None:
    """Each mart has a row `| `name` | grain | what |` in the hand-written tables of
    docs/warehouse.md, and that grain is the key its unique test proves."""
    docs = mart_docs()
    page = (DOCS / "warehouse.md").read_text().split(docs.BEGIN)[0]
    for _folder, _sql, model in docs.marts():
        key = docs.grain(model)
        assert key, f"{model['name']}: no unique-key test in its yml"
        row = re.search(rf"^\| `{model['name']}` \| ([^|]*(?:\\\|[^|]*)*)\|", page, re.M)
        assert row, f"docs/warehouse.md has no row for mart {model['name']}"
        grain = row.group(1).split("(")[0]
        assert [c.strip() for c in grain.split(",")] == key, (model["name"], grain, key)


def intermediate_entries() -> dict[str, dict]:
    entries: dict[str, dict] = {}
    for yml in (MODELS / "intermediate").rglob("_*.yml"):
        for model in (yaml.safe_load(yml.read_text()) or {}).get("models") or []:
            entries[model["name"]] = model
    return entries


def test_every_intermediate_model_states_and_tests_its_grain() -> None:
    docs = mart_docs()
    entries = intermediate_entries()
    for sql in sorted((MODELS / "intermediate").rglob("*.sql")):
        model = entries.get(sql.stem)
        assert model, f"{sql.stem} has no yml entry (its grain and a unique-key test)"
        key = docs.grain(model)
        assert key, f"{sql.stem}: no unique-key test (unique, or unique_combination)"
        description = " ".join(model.get("description", "").split())
        assert description.startswith("Grain: one row per "), sql.stem
        stated = description.removeprefix("Grain: one row per ").split(".")[0].strip("()")
        assert [c.strip() for c in stated.split(",")] == key, (sql.stem, stated, key)


def test_dim_plans_lives_with_its_yml() -> None:
    assert (MODELS / "marts" / "revenue" / "dim_plans.sql").is_file()
    yml = MODELS / "marts" / "revenue" / "_revenue__models.yml"
    assert "- name: dim_plans" in yml.read_text()


@pytest.fixture(scope="module")
def empty_warehouse() -> duckdb.DuckDBPyConnection:
    """The marts as empty tables typed like their yml, and the audit / quarantine tables."""
    con = duckdb.connect()
    for schema in ("marts", "audit", "quarantine"):
        con.execute(f"create schema {schema}")
    for ddl in BOOKKEEPING_DDL:
        con.execute(ddl)
    for _folder, _sql, model in mart_docs().marts():
        cols = ", ".join(f'"{c["name"]}" {c["data_type"]}' for c in model["columns"])
        con.execute(f"create table marts.{model['name']} ({cols})")
    return con


def test_questions_queries_run_against_the_marts(empty_warehouse) -> None:
    queries = re.findall(r"```sql\n(.*?)\n```", (DOCS / "questions.md").read_text(), re.S)
    assert len(queries) >= 20
    for q in queries:
        empty_warehouse.execute(q).fetchall()  # binds every table and column


def test_metrics_doc_covers_every_rule_models_cite() -> None:
    """Every rule a model, test or macro cites (`rule: R7`, `rules: R5 R6`, `Q1`) is a section of
    docs/metrics.md, and so is every worked example a test cites."""
    page = (DOCS / "metrics.md").read_text()
    sections = set(re.findall(r"^##+ ((?:R|Q)\d+)\.", page, re.M))
    assert {f"R{i}" for i in range(1, 11)} | {"Q1", "Q2"} <= sections
    examples = set(re.findall(r"^\| (\d+) \|", page, re.M))
    cited_rules: set[str] = set()
    cited_examples: set[str] = set()
    for f in (ROOT / "dbt_project").rglob("*"):
        if f.suffix not in (".sql", ".yml") or "target" in f.parts:
            continue
        text = f.read_text()
        for line in re.findall(r"rules?: ([^.;(]*)", text):
            cited_rules |= set(re.findall(r"\b((?:R|Q)\d+)\b", line))
        for group in re.findall(r"[Ww]orked examples? ([\d, and]+)", text):
            cited_examples |= set(re.findall(r"\d+", group))
    assert cited_rules and cited_rules <= sections, cited_rules - sections
    assert cited_examples and cited_examples <= examples, cited_examples - examples


def test_nothing_points_outside_the_repository() -> None:
    found = [
        f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
        for f in repo_text_files()
        if f != Path(__file__).resolve()
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "\n".join(found)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_documents_resolve() -> None:
    """Relative links in the docs and READMEs name files that exist (and headings that exist, for
    links into another markdown page)."""
    pages = [*DOCS.rglob("*.md"), ROOT / "README.md", ROOT / "dbt_project" / "README.md"]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", dest.read_text(), re.M)
                if anchor not in {_anchor(h) for h in headings}:
                    broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
