"""Digests of generated companies (landing folder + truth manifest), one per file, for the
configurations `test_digest.py` pins.

CSV and other files are hashed as bytes. Parquet files are hashed by their decoded rows
(column names, then every value), because their bytes embed the writer's library version. A
symbolic link is hashed by its target text, not the file it points at.

After an intended change of the generator's output, record the new digests with
`python -m tests.generate.digest` (and say in the commit why the company changed)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.generate import generate

from .helpers import SMALL

FIXTURE = Path(__file__).parents[1] / "fixtures" / "generate_digests.json"
D = dt.date.fromisoformat
#: name -> generate() arguments; small, but together they reach nearly every branch of the
#: simulation (exceptions, bad rows, whole-file faults, daily extracts, parquet, reactivations)
CONFIGS: dict[str, dict] = {
    "clean": dict(SMALL),  # the session fixtures of tests/generate
    "dirty": dict(SMALL, bad_rows=0.01),
    "company": dict(scale=0.3, seed=11),
    "year_daily_bad_rows": dict(
        scale=0.05, seed=3, start=D("2025-01-01"), end=D("2025-12-31"), daily=2, bad_rows=0.01
    ),
    "demo_defaults_small": dict(scale=0.05),
    "parquet": dict(
        scale=0.05,
        seed=5,
        start=D("2024-01-01"),
        end=D("2025-06-30"),
        daily=3,
        bad_rows=0.01,
        fmt="parquet",
    ),
    "many_billing_exceptions": dict(
        scale=0.04, seed=8, start=D("2024-06-01"), end=D("2026-03-31"), daily=1, exception_rate=0.3
    ),
}


def file_digest(p: Path) -> str:
    if p.is_symlink():
        return "link:" + hashlib.sha256(str(p.readlink()).encode()).hexdigest()
    data = p.read_bytes()
    if p.suffix == ".parquet" and data[:4] == data[-4:] == b"PAR1":
        t = pq.read_table(p)
        h = hashlib.sha256(json.dumps(t.column_names).encode())
        for row in zip(*(c.to_pylist() for c in t.columns), strict=True):
            h.update(json.dumps(row).encode())
        return "rows:" + h.hexdigest()
    return hashlib.sha256(data).hexdigest()  # also a file only named .parquet (a fault)


def company_digests(landing: Path) -> dict[str, str]:
    """Relative path (truth files under `truth/`) -> digest, for every file generate() wrote."""
    out: dict[str, str] = {}
    truth = landing.parent / f"{landing.name}.truth"
    for root, prefix in ((landing, ""), (truth, "truth/")):
        for p in sorted(root.rglob("*")):
            if p.is_file() or p.is_symlink():
                out[prefix + p.relative_to(root).as_posix()] = file_digest(p)
    return out


def expected() -> dict[str, dict[str, str]]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def record(names: list[str]) -> None:
    """Generate the named configurations (all by default) and store their digests."""
    data = expected() if FIXTURE.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or sorted(CONFIGS):
            out = Path(tmp) / name / "landing"
            generate(out, **CONFIGS[name])
            data[name] = company_digests(out)
            print(f"{name}: {len(data[name])} files")
    FIXTURE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    record(sys.argv[1:])
