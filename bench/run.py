"""`run_bench`: every measurement of every scale, one scale after another (never two builds at
once: the peak RSS and the timings are the build's own)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from bench.company import CompanySpec, ensure_company, landing_files, link_tree
from bench.measure import (
    SHORT_SECONDS,
    BenchError,
    BuildRun,
    floor,
    measure_pages,
    median,
    repeated,
    run_build,
)
from bench.peer import compare, run_peer
from pipelines.paths import PROJECT_ROOT

Say = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    scales: tuple[float, ...] = (1.0, 10.0, 100.0)
    repeats: int = 5  # runs of a short measurement (median); a long one runs once
    page_repeats: int = 20  # replays of each dashboard page's queries (median, p95)
    seed: int = 1
    start: dt.date = dt.date(2023, 1, 1)
    end: dt.date = dt.date(2026, 10, 31)
    cache_dir: Path = PROJECT_ROOT / "data" / "bench" / "cache"
    work_dir: Path = PROJECT_ROOT / "data" / "bench" / "work"
    results_dir: Path = PROJECT_ROOT / "bench" / "results"
    short_seconds: float = SHORT_SECONDS
    keep_work: bool = False  # keep the landing copies and warehouses of each scale
    quick: bool = False

    def as_quick(self) -> BenchOptions:
        """`--quick`: scale 0.1, every measurement once (keeps the harness alive in make test)."""
        results = PROJECT_ROOT / "data" / "bench" / "results"  # not the repo's bench/results
        return replace(self, scales=(0.1,), repeats=1, page_repeats=1, results_dir=results,
                       quick=True)  # fmt: skip


@dataclass
class _Builds:
    runs: list[BuildRun] = field(default_factory=list)

    def summary(self) -> dict:
        steps = sorted({k for r in self.runs for k in r.steps})
        last = self.runs[-1]
        return {
            "median_s": round(median([r.seconds for r in self.runs]), 3),
            "runs_s": [round(r.seconds, 3) for r in self.runs],
            "peak_rss_bytes": max(r.peak_rss_bytes for r in self.runs),
            "rows_loaded": last.rows_loaded,
            "warehouse_bytes": last.warehouse_bytes,
            "steps_s": {
                k: round(median([r.steps[k] for r in self.runs if k in r.steps]), 3) for k in steps
            },
            "run_ids": [r.run_id for r in self.runs],
        }


def run_bench(options: BenchOptions, say: Say = print) -> dict:
    """Measure every scale of `options`; the report as a JSON-ready dict (see bench.report)."""
    from bench.report import machine

    started, load, host = dt.datetime.now(dt.UTC), os.getloadavg(), machine()  # the code run
    scales = []
    for scale in options.scales:
        spec = CompanySpec(scale, options.seed, options.start, options.end)
        try:
            scales.append(bench_scale(spec, options, say))
        except BenchError as exc:
            # one scale that cannot be measured (a build that did not publish) must not lose
            # the others: it is reported as failed, with the reason, and the bench goes on
            say(f"scale {scale:g}: failed — {exc}")
            scales.append({"scale": scale, "company": spec.key, "error": str(exc)})
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": host,
        # other work on the machine slows every number: the 1-minute load before and after
        "load_average": [round(load[0], 2), round(os.getloadavg()[0], 2)],
        "options": {
            "scales": list(options.scales),
            "repeats": options.repeats,
            "page_repeats": options.page_repeats,
            "short_seconds": options.short_seconds,
            "seed": options.seed,
            "start": options.start.isoformat(),
            "end": options.end.isoformat(),
            "quick": options.quick,
        },
        "scales": scales,
    }


def bench_scale(spec: CompanySpec, o: BenchOptions, say: Say) -> dict:
    """Every measurement of one company (see the package docstring)."""

    company = ensure_company(o.cache_dir, spec, say)
    files = landing_files(company.landing)
    tag = f"scale {spec.scale:g}:"
    say(f"{tag} the floor (DuckDB counting the rows of {len(files)} files) …")
    floors = repeated(lambda _i: floor(files), lambda r: r[0], o.repeats, o.short_seconds)
    work = o.work_dir / spec.key
    shutil.rmtree(work, ignore_errors=True)
    landing, home = work / "landing", work / "dagster_home"
    link_tree(company.landing, landing)

    def full(i: int) -> BuildRun:
        say(f"{tag} full build {i + 1} …")
        shutil.rmtree(work / f"full-{i - 1}", ignore_errors=True)  # keep only the last one
        return run_build(landing, work / f"full-{i}", home, full_refresh=True)

    fulls = _Builds(repeated(full, lambda r: r.seconds, o.repeats, o.short_seconds))
    published = work / f"full-{len(fulls.runs) - 1}"
    link_tree(company.daily, landing)  # one more day of extracts

    def nightly(i: int) -> BuildRun:
        say(f"{tag} nightly build {i + 1} (after one daily extract) …")
        target = work / f"nightly-{i}"
        shutil.rmtree(work / f"nightly-{i - 1}", ignore_errors=True)
        shutil.copytree(published, target, symlinks=True)  # the warehouse as published
        return run_build(landing, target, home, full_refresh=False)

    nightlies = _Builds(repeated(nightly, lambda r: r.seconds, o.repeats, o.short_seconds))
    marts = _marts_by_month(published)
    say(f"{tag} dashboard pages …")
    pages = measure_pages(published, o.page_repeats, work / "pages.json")
    say(f"{tag} the pandas peer …")
    peers = repeated(lambda _i: _peer(company.landing, spec.end), lambda r: r[0], o.repeats,
                     o.short_seconds)  # fmt: skip
    computed = peers[-1][1]
    if not o.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    slowest = max(pages, key=lambda p: p["p95_ms"], default=None)
    return {
        "scale": spec.scale,
        "company": spec.key,
        "files": len(files),
        "rows": floors[0][1],
        "floor_s": round(median([f[0] for f in floors]), 3),
        "floor_runs_s": [round(f[0], 3) for f in floors],
        "full_build": fulls.summary(),
        "nightly": {**nightlies.summary(), "daily_files": len(landing_files(company.daily))},
        "pages": pages,
        "slowest_page": slowest,
        "peer": {
            "median_s": round(median([p[0] for p in peers]), 3),
            "runs_s": [round(p[0], 3) for p in peers],
            "mrr": compare(computed["mrr"], marts["mrr"]),
            "revenue": compare(computed["revenue"], marts["revenue"]),
        },
    }


def _peer(landing: Path, as_of: dt.date) -> tuple[float, dict]:
    start = time.perf_counter()
    result = run_peer(landing, as_of)
    return time.perf_counter() - start, result


def _marts_by_month(warehouse: Path) -> dict[str, dict[dt.date, Decimal]]:
    """The published MRR and recognized revenue per month (USD), what the peer is compared to."""
    import duckdb

    path = (warehouse / "current.duckdb").resolve(strict=True)
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT month, mrr_usd, revenue_usd FROM marts.kpi_monthly").fetchall()
    return {
        "mrr": {m: v for m, v, _ in rows if v is not None},
        "revenue": {m: v for m, _, v in rows if v is not None},
    }
