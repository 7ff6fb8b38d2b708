"""Generated companies for the benchmark, cached by their arguments.

A company is generated once with one daily extract after its end (`--daily 1`); the daily files
are then moved aside, so the cache holds the landing folder a full build reads (`landing/`) and
the one more day a nightly build adds (`daily/`, same layout). The generator simulates the same
world whatever `daily` is, so `landing/` is byte-identical to a company generated without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

#: Written last: a cache folder without it is an interrupted generation and is redone.
DONE = "company.json"
#: The code that decides what a generated company holds: the generator and the contract.
GENERATOR_CODE = ("pipelines/generate", "pipelines/contract")


def generator_fingerprint(root: Path | None = None) -> str:
    """A short digest of the generator's and the contract's sources: part of a cached company's
    key, so a bench never measures a company the current generator would not produce."""
    from pipelines.paths import PROJECT_ROOT

    base = Path(root or PROJECT_ROOT)
    digest = hashlib.sha256()
    for folder in GENERATOR_CODE:
        for path in sorted((base / folder).rglob("*.py")):
            digest.update(path.relative_to(base).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:10]


@dataclass(frozen=True)
class CompanySpec:
    """The arguments of `subops generate` that define a benchmark company."""

    scale: float
    seed: int = 1
    start: dt.date = dt.date(2023, 1, 1)
    end: dt.date = dt.date(2026, 10, 31)

    @property
    def key(self) -> str:
        return (
            f"scale{self.scale:g}-seed{self.seed}-{self.start}-{self.end}-daily1"
            f"-gen{generator_fingerprint()}"
        )

    @property
    def daily_date(self) -> dt.date:
        return self.end + dt.timedelta(days=1)


@dataclass(frozen=True)
class Company:
    spec: CompanySpec
    landing: Path  # the extracts up to `end`: what the full build reads
    daily: Path  # the one daily extract after `end`, in the landing layout
    generated_rows: dict[str, int]  # rows per table, daily extract included


def ensure_company(cache_dir: Path, spec: CompanySpec, say=print) -> Company:
    """The cached company of these arguments, generated first if the cache lacks it."""
    folder = Path(cache_dir) / spec.key
    landing, daily = folder / "landing", folder / "daily"
    done = folder / DONE
    if not done.exists():
        from pipelines.generate import generate

        shutil.rmtree(folder, ignore_errors=True)
        say(f"generating the company at scale {spec.scale:g} into {folder} …")
        res = generate(
            landing, scale=spec.scale, seed=spec.seed, start=spec.start, end=spec.end, daily=1
        )
        _move_daily(landing, daily, spec.daily_date)
        meta = {**asdict(spec), "rows": res.row_counts}
        done.write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    meta = json.loads(done.read_text(encoding="utf-8"))
    return Company(spec, landing, daily, meta["rows"])


def _move_daily(landing: Path, daily: Path, day: dt.date) -> None:
    """Move every extract file dated `day` from `landing` to the same place under `daily`."""
    for path in sorted(landing.glob(f"*/*/{day.isoformat()}.*")):
        target = daily / path.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)


def link_tree(src: Path, dst: Path) -> None:
    """Copy a folder of extracts as hard links (no bytes copied; a plain copy across disks)."""
    for path in sorted(p for p in Path(src).rglob("*") if p.is_file()):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def landing_files(landing: Path) -> list[Path]:
    """The extract files of a landing folder, in a stable order."""
    return sorted(p for p in Path(landing).glob("*/*/*.*") if p.suffix in (".csv", ".parquet"))
