"""The house's layers: storage (`pipelines.warehouse`) knows no orchestrator.

Layers, lowest first (see LAYERS): paths, contract → settings, dbt_project → ingest, generate,
mapping → warehouse (build files, DDL, audit tables, publication, read-only access) → service
(alerts, run history, the `subops serve` supervisor; no Dagster) → defs (Dagster) →
definitions → run (a build run in-process) → cli. A module imports from its own layer or below,
never above — not even inside a function, where an import hides a cycle from Python but not
from a reader.

`python tests/test_import_direction.py` prints the import graph of `pipelines` (which module
imports which, imports inside functions included; Dagster in brackets) and its cycles.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipelines"

#: Lowest first. A package not listed is not checked for direction (cycles still are).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("pipelines.paths", "pipelines.contract"),
    ("pipelines.settings", "pipelines.dbt_project"),
    ("pipelines.ingest", "pipelines.generate", "pipelines.mapping"),  # mapping: `subops map`
    ("pipelines.warehouse",),
    ("pipelines.service",),  # subops serve: alerts, freshness, run history, the supervisor
    ("pipelines.defs",),
    ("pipelines.definitions",),
    ("pipelines.run",),
    ("pipelines.cli",),
)
STORAGE = ("pipelines.warehouse",)
#: What storage must never load, directly or through anything it imports.
ORCHESTRATION = (
    "dagster",
    "dagster_dbt",
    "pipelines.defs",
    "pipelines.definitions",
    "pipelines.run",
)
DAGSTER = ("dagster", "dagster_dbt")


def _is_under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package.parent): p for p in sorted(package.rglob("*.py"))}


def imports_of(path: Path, name: str) -> set[str]:
    """Every name module `name` (file `path`) imports from, at the top or inside a function:
    `import a.b` gives `a.b`, `from a import b` gives `a` and `a.b` (b may be a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module → the `pipelines` modules it imports."""
    mods = modules(package)
    return {m: {i for i in imports_of(p, m) if i in mods and i != m} for m, p in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def layer(module: str) -> int | None:
    for n, prefixes in enumerate(LAYERS):
        if _is_under(module, prefixes):
            return n
    return None


STORAGE_MODULES = sorted(m for m in modules() if _is_under(m, STORAGE))


def test_storage_names_no_orchestrator_anywhere_in_its_source():
    """Static: not at the top of a module, not inside a function."""
    mods = modules()
    bad = {
        m: sorted(i for i in imports_of(p, m) if _is_under(i, ORCHESTRATION))
        for m, p in mods.items()
    }
    assert not {m: v for m, v in bad.items() if v and _is_under(m, STORAGE)}


@pytest.mark.parametrize("module", STORAGE_MODULES)
def test_importing_a_storage_module_loads_no_dagster(module: str):
    """Dynamic: a fresh interpreter imports the module; neither Dagster nor the definitions
    come along, through anything the module imports."""
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({ORCHESTRATION!r}))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_no_module_of_pipelines_takes_part_in_an_import_cycle():
    assert cycles(graph()) == []


def test_every_import_points_down_the_layers():
    """E.g. the definitions never import the in-process run, ingest never imports storage."""
    upward = sorted(
        f"{m} -> {i}"
        for m, deps in graph().items()
        for i in deps
        if layer(m) is not None and layer(i) is not None and layer(i) > layer(m)
    )
    assert upward == []


def test_the_graph_sees_imports_inside_functions(tmp_path: Path):
    pkg = tmp_path / "pipelines"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pipelines import b\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n")
    g = graph(pkg)
    assert "pipelines.b" in g["pipelines.a"] and "pipelines.a" in g["pipelines.b"]
    assert cycles(g) == [["pipelines.a", "pipelines.b"]]


def main() -> None:
    g = graph()
    mods = modules()
    for m in sorted(g):
        ext = sorted(
            {i.split(".")[0] for i in imports_of(mods[m], m) if _is_under(i.split(".")[0], DAGSTER)}
        )
        deps = sorted(g[m]) + [f"[{e}]" for e in ext]
        print(f"{m} -> {', '.join(deps) if deps else '(nothing)'}")
    found = cycles(g)
    print("cycles:", "; ".join(" <-> ".join(c) for c in found) if found else "none")


if __name__ == "__main__":
    main()
