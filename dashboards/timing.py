"""How long each dashboard page's queries take on a warehouse: the page budget (≤ 300 ms of
queries per page at `--scale 10`) is measured here, never asserted in a test.

Each page is rendered once in-process (Streamlit's AppTest) with every query call recorded (name
and arguments); the recorded calls are then replayed directly, uncached, `repeats` times, and the
page's total query time is reported as median and p95.

    python -m dashboards.timing --warehouse-dir data/warehouse [--repeats 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dashboards.lib.pages import PAGE_SCRIPTS

ENTRY = Path(__file__).resolve().parent / "streamlit_app.py"
#: The pages timed (script path as the navigation registers it).
PAGES: tuple[str, ...] = PAGE_SCRIPTS

Call = tuple[str, tuple[Any, ...]]


def use_app_config() -> None:
    """The runner options of dashboards/.streamlit/config.toml for in-process runs: `streamlit
    run` reads that file, AppTest does not (no magic: see the file)."""
    from streamlit import config

    config.set_option("runner.magicEnabled", False)


def record(warehouse_dir: Path) -> dict[str, list[Call]]:
    """The query calls each page makes on its first render (default filters)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboards.lib import cache

    use_app_config()
    before = os.environ.get("SUBOPS_WAREHOUSE_DIR")
    os.environ["SUBOPS_WAREHOUSE_DIR"] = str(warehouse_dir)
    calls: list[Call] = []
    original = dict(cache.REGISTRY)

    def recorder(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(path: Path, *args: Any) -> Any:
            calls.append((name, args))
            return fn(path, *args)

        return wrapped

    cache.REGISTRY.update({n: recorder(n, f) for n, f in original.items()})
    out: dict[str, list[Call]] = {}
    try:
        at = AppTest.from_file(str(ENTRY), default_timeout=120)
        for page in PAGES:
            if not (ENTRY.parent / page).exists():
                continue
            st.cache_data.clear()
            calls.clear()
            if page.endswith("account_360.py"):  # its sections need an account: the largest
                at.query_params["account"] = _largest_account(warehouse_dir)
            if page == PAGES[0]:
                at.run()
            else:
                at.switch_page(page).run()
            if at.exception:
                raise RuntimeError(f"{page} raised: {at.exception[0].message}")
            out[page] = list(calls)
    finally:
        cache.REGISTRY.update(original)
        if before is None:
            os.environ.pop("SUBOPS_WAREHOUSE_DIR", None)
        else:
            os.environ["SUBOPS_WAREHOUSE_DIR"] = before
    return out


def _largest_account(warehouse_dir: Path) -> str:
    """The account with the highest current MRR (the busiest Account 360 view)."""
    from dashboards.lib import queries

    path = (warehouse_dir / "current.duckdb").resolve(strict=True)
    top = queries.read(
        path,
        "SELECT account_id FROM marts.dim_accounts "
        "ORDER BY current_mrr_usd DESC NULLS LAST, account_id LIMIT 1",
    )
    return str(top["account_id"].iloc[0])


def replay(path: Path, calls: list[Call], repeats: int) -> list[float]:
    """Total seconds of one page's queries, uncached, for each repeat."""
    from dashboards.lib import cache

    totals = []
    for _ in range(repeats):
        start = time.perf_counter()
        for name, args in calls:
            cache.REGISTRY[name](path, *args)
        totals.append(time.perf_counter() - start)
    return totals


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def measure(warehouse_dir: Path, repeats: int = 7) -> list[dict[str, Any]]:
    """One row per page: queries run, median and p95 of their total time in milliseconds."""
    path = (warehouse_dir / "current.duckdb").resolve(strict=True)
    rows = []
    for page, calls in record(warehouse_dir).items():
        totals = replay(path, calls, repeats)
        rows.append(
            {
                "page": Path(page).stem,
                "queries": len(calls),
                "median_ms": round(statistics.median(totals) * 1000, 1),
                "p95_ms": round(p95(totals) * 1000, 1),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse-dir", type=Path, default=Path("data/warehouse"))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = measure(args.warehouse_dir, args.repeats)
    print(f"{'page':<14} {'queries':>7} {'median ms':>10} {'p95 ms':>8}")
    for r in rows:
        print(f"{r['page']:<14} {r['queries']:>7} {r['median_ms']:>10} {r['p95_ms']:>8}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
