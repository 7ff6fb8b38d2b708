"""The benchmark's report: the machine it ran on, the JSON and Markdown files, the printed tables.
The columns are explained in docs/benchmark.md."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import socket
import subprocess
from decimal import Decimal
from pathlib import Path

from rich.table import Table

from pipelines.paths import PROJECT_ROOT

VERSIONS = ("duckdb", "dagster", "dbt-core", "dbt-duckdb", "polars", "pandas", "streamlit")
SUMMARY = (
    "scale", "rows", "floor", "full build", "× floor", "peak RSS", "nightly",
    "nightly % of full", "warehouse", "slowest page p95", "peer", "peer MRR match",
)  # fmt: skip


def machine() -> dict:
    """Cores, memory, CPU, versions and the git commit the numbers belong to."""
    return {
        "hostname": socket.gethostname(),
        "cores": os.cpu_count(),
        "memory_bytes": _meminfo("MemTotal"),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in VERSIONS},
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _meminfo(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def write_results(report: dict, results_dir: Path) -> tuple[Path, Path]:
    """`<date>-<host>[-quick].json` and `.md` in `results_dir` (a rerun that day replaces them)."""
    host = re.sub(r"[^A-Za-z0-9_.-]+", "-", report["machine"]["hostname"]) or "host"
    stem = f"{report['started_at'][:10]}-{host}" + ("-quick" if report["options"]["quick"] else "")
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = results_dir / f"{stem}.json", results_dir / f"{stem}.md"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return json_path, md_path


# --- formatting ------------------------------------------------------------------------------


def fmt_seconds(s: float) -> str:
    return f"{s:.0f} s" if s >= 100 else f"{s:.1f} s" if s >= 10 else f"{s:.2f} s"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def fmt_rows(n: int) -> str:
    return f"{n / 1e6:.1f} M" if n >= 1e6 else f"{n / 1e3:.1f} k" if n >= 1e3 else str(n)


def measured(report: dict) -> list[dict]:
    """The scales measured (a scale whose build failed has only `error`)."""
    return [s for s in report["scales"] if "error" not in s]


def failed(report: dict) -> list[dict]:
    return [s for s in report["scales"] if "error" in s]


def fmt_match(c: dict) -> str:
    ok = "✓" if c["months_within_a_cent"] == c["months"] else "✗"
    diff = Decimal(c["max_abs_diff_usd"]).quantize(Decimal("0.01"))
    return f"{ok} {c['months_within_a_cent']}/{c['months']} months, max Δ ${diff}"


def summary_rows(report: dict) -> list[tuple[str, ...]]:
    rows = []
    for s in measured(report):
        full, nightly, slow = s["full_build"], s["nightly"], s["slowest_page"]
        rows.append(
            (
                f"{s['scale']:g}",
                fmt_rows(s["rows"]),
                fmt_seconds(s["floor_s"]),
                fmt_seconds(full["median_s"]),
                f"{full['median_s'] / s['floor_s']:.0f}×" if s["floor_s"] else "?",
                fmt_bytes(full["peak_rss_bytes"]),
                fmt_seconds(nightly["median_s"]),
                f"{100 * nightly['median_s'] / full['median_s']:.0f}%",
                fmt_bytes(full["warehouse_bytes"]),
                f"{slow['p95_ms']:.0f} ms ({slow['page']})" if slow else "?",
                fmt_seconds(s["peer"]["median_s"]),
                fmt_match(s["peer"]["mrr"]),
            )
        )
    return rows


def step_rows(scale: dict) -> list[tuple[str, str, str]]:
    """Every Dagster step of the full build, slowest first, with its time in the nightly."""
    full, nightly = scale["full_build"]["steps_s"], scale["nightly"]["steps_s"]
    keys = sorted(set(full) | set(nightly), key=lambda k: (-full.get(k, 0), k))
    show = lambda d, k: fmt_seconds(d[k]) if k in d else "–"  # noqa: E731
    rows = [(k, show(full, k), show(nightly, k)) for k in keys]
    # the steps run one after another: the rest is start-up, the job's preparation, the summary
    rest = [
        scale[b]["median_s"] - sum(scale[b]["steps_s"].values()) for b in ("full_build", "nightly")
    ]
    return [*rows, ("(outside the steps)", *(fmt_seconds(max(r, 0)) for r in rest))]


def summary_table(report: dict, width: int = 200) -> Table:
    """One row per scale (the issue's layout) on a wide terminal; one column per scale on a
    narrow one, where twelve columns would wrap every cell."""
    table = Table(title="subops bench", caption=_caption(report))
    rows = summary_rows(report)
    if width >= 170:
        for i, col in enumerate(SUMMARY):
            table.add_column(col, justify="left" if i in (0, 11) else "right", no_wrap=True)
        for row in rows:
            table.add_row(*row)
        return table
    table.add_column("scale", no_wrap=True)
    for row in rows:
        table.add_column(row[0], justify="right")
    for i, name in enumerate(SUMMARY[1:], start=1):
        table.add_row(name, *(row[i] for row in rows))
    return table


def step_table(scale: dict) -> Table:
    table = Table(title=f"scale {scale['scale']:g}: Dagster steps")
    table.add_column("step")
    table.add_column("full build", justify="right")
    table.add_column("nightly", justify="right")
    for row in step_rows(scale):
        table.add_row(*row)
    return table


def _caption(report: dict) -> str:
    m = report["machine"]
    commit = (m["git_commit"] or "?")[:10] + (" (modified)" if m["git_dirty"] else "")
    return f"{m['hostname']}: {m['cores']} cores, {fmt_bytes(m['memory_bytes'])}; commit {commit}"


def _md_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def markdown(report: dict) -> str:
    m, o = report["machine"], report["options"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    lines = [
        f"# subops bench, {report['started_at'][:10]} on {m['hostname']}",
        "",
        f"- machine: {m['cores']} cores ({m['cpu']}), {fmt_bytes(m['memory_bytes'])} memory, "
        f"{m['platform']}, Python {m['python']}",
        f"- versions: {versions}",
        f"- commit: {m['git_commit']}" + (" (with uncommitted changes)" if m["git_dirty"] else ""),
        f"- companies: `subops generate --seed {o['seed']} --start {o['start']} --end {o['end']} "
        f"--scale S`; runs under {o['short_seconds']:g} s repeated up to {o['repeats']} times "
        f"(median); page queries replayed {o['page_repeats']} times"
        + ("; **quick run**" if o["quick"] else ""),
        f"- ran {report['started_at']} → {report['finished_at']} (UTC); 1-minute load average "
        f"{report['load_average'][0]} before, {report['load_average'][1]} after "
        f"({m['cores']} cores: above that, other work shared the machine)",
        "",
        *_md_table(SUMMARY, summary_rows(report)),
        "",
        "Columns: see docs/benchmark.md.",
    ]
    for s in failed(report):
        lines += ["", f"## Scale {s['scale']:g}: not measured", "", s["error"]]
    for s in measured(report):
        peer = s["peer"]
        lines += ["", f"## Scale {s['scale']:g}", ""]
        lines += [
            f"- full build runs: {', '.join(fmt_seconds(x) for x in s['full_build']['runs_s'])}; "
            f"nightly runs: {', '.join(fmt_seconds(x) for x in s['nightly']['runs_s'])} "
            f"({s['nightly']['rows_loaded']:,} rows in {s['nightly']['daily_files']} daily files)",
            f"- nightly peak RSS {fmt_bytes(s['nightly']['peak_rss_bytes'])}",
            f"- peer MRR: {fmt_match(peer['mrr'])} (worst {peer['mrr']['worst_month']})",
            f"- peer revenue: {fmt_match(peer['revenue'])} (worst {peer['revenue']['worst_month']};"
            " see docs/benchmark.md for why it differs)",
            "",
        ]
        lines += _md_table(("step", "full build", "nightly"), step_rows(s))
        lines += [""]
        pages = [
            (p["page"], str(p["queries"]), f"{p['median_ms']:.0f}", f"{p['p95_ms']:.0f}")
            for p in s["pages"]
        ]
        lines += _md_table(("page", "queries", "median ms", "p95 ms"), pages)
    return "\n".join(lines) + "\n"
