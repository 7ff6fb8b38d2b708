"""Extract files in a landing folder: `<landing>/<source>/<table>/<extract_id>.<ext>`."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.contract import TABLES, Table

_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})")
READABLE_FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class LandingFile:
    """One extract file of one contract table."""

    table: Table
    path: Path
    rel: str  # path relative to the landing folder, posix separators (stable lineage)
    extract_id: str

    @property
    def fmt(self) -> str:
        return self.path.suffix.lower().lstrip(".")

    def sha256(self) -> str:
        h = hashlib.sha256()
        with self.path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()


def table_files(landing_dir: Path, table: Table) -> list[LandingFile]:
    """Files of one table in extract order (extract ids sort in extract order by contract).

    Files with another extension are listed too: the loader quarantines them as unreadable.
    """
    folder = Path(landing_dir) / table.source / table.name
    if not folder.is_dir():
        return []
    files = [
        LandingFile(table, p, p.relative_to(landing_dir).as_posix(), p.stem)
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda f: (f.extract_id, f.rel))


def all_files(landing_dir: Path) -> list[LandingFile]:
    return [f for t in TABLES for f in table_files(landing_dir, t)]


def latest_extract_date(landing_dir: Path) -> dt.date | None:
    """The date of the latest extract: the default as-of date, so builds are deterministic."""
    dates = []
    for f in all_files(landing_dir):
        m = _DATE_PREFIX.match(f.extract_id)
        if m:
            try:
                dates.append(dt.date.fromisoformat(m.group(1)))
            except ValueError:
                continue
    return max(dates) if dates else None
