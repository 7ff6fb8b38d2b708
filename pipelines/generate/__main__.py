"""`python -m pipelines.generate OUT [--scale ..]`: a thin entry for development (the product CLI
is `subops generate`)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from pipelines.generate import generate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipelines.generate")
    p.add_argument("out", type=Path)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 1, 1))
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31))
    p.add_argument("--daily", type=int, default=0)
    p.add_argument("--bad-rows", type=float, default=0.0)
    p.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default="csv")
    p.add_argument("--exception-rate", type=float, default=0.02)
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    res = generate(
        a.out,
        scale=a.scale,
        seed=a.seed,
        start=a.start,
        end=a.end,
        daily=a.daily,
        bad_rows=a.bad_rows,
        fmt=a.fmt,
        exception_rate=a.exception_rate,
        progress=lambda m: print(m, file=sys.stderr),
    )
    for k, v in sorted(res.row_counts.items()):
        print(f"{k:32s} {v:>12,d}")
    print(
        f"{len(res.files)} files, {res.bad_rows} bad rows/files, "
        f"{res.billing_exceptions} billing exceptions, {time.perf_counter() - t0:.1f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
