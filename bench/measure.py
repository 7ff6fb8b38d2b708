"""What the benchmark measures, one function each: repeated timings, the floor, a build run as a
subprocess (wall time, peak RSS of its process tree, the Dagster step durations), file sizes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pipelines.paths import PROJECT_ROOT

T = TypeVar("T")

#: A run shorter than this is repeated (up to the bench's `repeats`) and the median reported.
SHORT_SECONDS = 10.0


class BenchError(RuntimeError):
    """A measurement that cannot be taken (a build failed): its numbers would mean nothing."""


def repeated(
    run: Callable[[int], T], seconds: Callable[[T], float], repeats: int, short: float
) -> list[T]:
    """`run(i)` once, then again up to `repeats` runs in all while a run takes under `short` s."""
    out = [run(0)]
    while len(out) < repeats and seconds(out[-1]) < short:
        out.append(run(len(out)))
    return out


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def floor(files: list[Path]) -> tuple[float, int]:
    """Seconds for DuckDB to read every landing file once with `count(*)`, and the rows."""
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    rows = 0
    for f in files:
        reader = "read_parquet" if f.suffix == ".parquet" else "read_csv"
        rows += con.execute(f"SELECT count(*) FROM {reader}(?)", [str(f)]).fetchone()[0]
    seconds = time.perf_counter() - start
    con.close()
    return seconds, rows


@dataclass
class BuildRun:
    """One `subops build` subprocess: what it took and what it recorded."""

    seconds: float
    peak_rss_bytes: int  # the process tree's RSS summed, sampled; at least the largest process
    status: str  # runs.jsonl: published, failed, up_to_date …
    run_id: str | None
    rows_loaded: int
    steps: dict[str, float] = field(default_factory=dict)  # Dagster step key → seconds
    warehouse_bytes: int = 0
    log_file: str | None = None


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.scandir(f"/proc/{pid}/task"):
            with open(f"{task.path}/children", encoding="ascii") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:  # gone, or a kernel without the children files
        pass
    return out


def _tree_rss(pid: int) -> int:
    """RSS bytes of a process and all its descendants."""
    total, todo, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        todo.extend(_children(p))
    return total


class _RssSampler(threading.Thread):
    """Samples the RSS of a process tree every `interval` seconds; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.peak = max(self.peak, _tree_rss(self.pid))


def child_env(**extra: str) -> dict[str, str]:
    """A subprocess imports this checkout's `pipelines` and `dashboards`, whatever the cwd."""
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def run_build(
    landing: Path, warehouse: Path, dagster_home: Path, *, full_refresh: bool
) -> BuildRun:
    """`subops build` in a subprocess; fails with the log's path unless it published."""
    cmd = [sys.executable, "-m", "pipelines.cli", "build"]
    cmd += ["--landing", str(landing), "--warehouse-dir", str(warehouse)]
    cmd += ["--full-refresh"] if full_refresh else []
    warehouse.mkdir(parents=True, exist_ok=True)
    out_file = warehouse.parent / f"{warehouse.name}.out"
    with out_file.open("w", encoding="utf-8") as out:
        start = time.perf_counter()
        env = child_env(DAGSTER_HOME=str(dagster_home))
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out)
        sampler = _RssSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's
        seconds = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = max(sampler.peak, usage.ru_maxrss * 1024)  # ru_maxrss: KiB on Linux
    record = last_run(warehouse)
    if proc.returncode != 0 or record.get("status") != "published":
        tail = out_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        raise BenchError(
            f"the build into {warehouse} did not publish (exit {proc.returncode}) after "
            f"{seconds:.0f} s, peak RSS {peak / 2**30:.1f} GiB: "
            f"{' / '.join(tail)}; see {record.get('log_file') or out_file}"
        )
    current = (warehouse / "current.duckdb").resolve()
    return BuildRun(
        seconds=seconds,
        peak_rss_bytes=peak,
        status=record["status"],
        run_id=record.get("run_id"),
        rows_loaded=int(record.get("rows_loaded") or 0),
        steps=step_seconds(dagster_home, record["run_id"]),
        warehouse_bytes=current.stat().st_size,
        log_file=record.get("log_file"),
    )


def last_run(warehouse: Path) -> dict:
    """The last line of `<warehouse>/logs/runs.jsonl` (every build writes one)."""
    runs = warehouse / "logs" / "runs.jsonl"
    lines = runs.read_text(encoding="utf-8").splitlines() if runs.exists() else []
    return json.loads(lines[-1]) if lines else {}


def step_seconds(dagster_home: Path, run_id: str) -> dict[str, float]:
    """Each step's duration in a run, from the Dagster instance the build recorded it in."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        stats = instance.get_run_step_stats(run_id)
    finally:
        instance.dispose()
    return {
        s.step_key: round(s.end_time - s.start_time, 3)
        for s in stats
        if s.start_time is not None and s.end_time is not None
    }


def measure_pages(warehouse: Path, repeats: int, out: Path) -> list[dict]:
    """Every dashboard page's queries, median and p95 ms: `python -m dashboards.timing` in a
    subprocess (Streamlit's connections and bare-mode warnings stay out of the bench)."""
    cmd = [sys.executable, "-m", "dashboards.timing", "--warehouse-dir", str(warehouse)]
    cmd += ["--repeats", str(repeats), "--json", str(out)]
    proc = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = " / ".join(proc.stderr.strip().splitlines()[-3:])
        raise BenchError(f"timing the dashboard pages on {warehouse} failed: {tail}")
    return json.loads(out.read_text(encoding="utf-8"))
