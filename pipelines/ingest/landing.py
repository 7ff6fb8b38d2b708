"""The landing folder: `<landing>/<source>/<table>/<extract_id>.<csv|parquet>`, and nothing else.

`scan_landing` looks at every file under the folder once and sorts it into extracts to load or
files refused with a reason (misplaced, badly named, dated in the future, a link leaving the
folder, two files for one extract). Nothing under the folder is skipped silently: the refused
files go to `quarantine.files` on every build, so they are seen until someone fixes them.
The one exception is `<landing>/_mapping/`, where `subops map` keeps its bookkeeping (rows it
could not place, lineage back to the export files): not extracts, read by the build separately.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.contract import SOURCES, TABLES, Table

READABLE_FORMATS = ("csv", "parquet")
#: The folder of `subops map`'s bookkeeping under a landing folder (not extracts).
MAPPING_FOLDER = "_mapping"
_DATE_ID = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TS_ID = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z$")
_BY_FOLDER: dict[tuple[str, str], Table] = {(t.source, t.name): t for t in TABLES}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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

    @property
    def extract_date(self) -> dt.date:
        return dt.date.fromisoformat(self.extract_id[:10])

    def sha256(self) -> str:
        return _sha256(self.path)


@dataclass(frozen=True)
class RefusedFile:
    """A file under the landing folder that is not a loadable extract, and why."""

    rel: str
    path: Path
    code: str  # one of LANDING_REJECT_REASONS
    reason: str
    source: str | None = None
    table: str | None = None
    extract_id: str | None = None

    def sha256(self) -> str | None:
        try:
            return _sha256(self.path) if self.path.is_file() else None
        except OSError:
            return None


@dataclass
class LandingScan:
    """Every file under the landing folder: the extracts to load and the files refused."""

    files: list[LandingFile] = field(default_factory=list)
    refused: list[RefusedFile] = field(default_factory=list)

    def for_table(self, t: Table) -> list[LandingFile]:
        return [f for f in self.files if f.table.qualified_name == t.qualified_name]

    def latest_extract_date(self) -> dt.date | None:
        """The date of the latest accepted extract: the default as-of date (deterministic)."""
        return max((f.extract_date for f in self.files), default=None)


def parse_extract_id(stem: str) -> dt.datetime | None:
    """The moment an extract id names (`YYYY-MM-DD` or `YYYY-MM-DDTHHMMSSZ`), else None."""
    m = _DATE_ID.match(stem) or _TS_ID.match(stem)
    if not m:
        return None
    try:
        return dt.datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None


def _did_you_mean(name: str, options: list[str]) -> str:
    exact = [o for o in options if o.lower() == name.lower()]
    close = exact or difflib.get_close_matches(name.lower(), options, n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else f" (expected one of {', '.join(options)})"


def _classify(
    landing: Path, path: Path, rel: str, today: dt.date, tolerance_days: int
) -> LandingFile | RefusedFile:
    parts = rel.split("/")

    def refuse(code: str, why: str, **kw: str | None) -> RefusedFile:
        return RefusedFile(rel, path, code, f"{rel}: {why}", **kw)

    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(landing):
            return refuse(
                "outside_landing",
                f"a link to {target}, outside the landing folder; copy the file in instead.",
            )
    if any(p.startswith(".") for p in parts):
        return refuse(
            "misplaced_file",
            "a hidden file or folder (name starts with '.') is not an extract; remove it.",
        )
    if len(parts) != 3:
        where = "nested in a sub-folder" if len(parts) > 3 else "not inside <source>/<table>/"
        return refuse(
            "misplaced_file",
            f"{where}; extracts live at <source>/<table>/<extract_id>.csv — move it there.",
        )
    source, tname, name = parts
    if source not in SOURCES:
        return refuse(
            "misplaced_file",
            f"unknown source folder '{source}'{_did_you_mean(source, list(SOURCES))}",
        )
    if (source, tname) not in _BY_FOLDER:
        names = [t for s, t in _BY_FOLDER if s == source]
        return refuse(
            "misplaced_file",
            f"unknown table folder '{source}/{tname}'{_did_you_mean(tname, names)}",
            source=source,
        )
    t = _BY_FOLDER[(source, tname)]
    stem = Path(name).stem
    when = parse_extract_id(stem)
    if when is None:
        return refuse(
            "bad_extract_id",
            f"'{stem}' is not an extract id; name the file by its extract date, YYYY-MM-DD or "
            "YYYY-MM-DDTHHMMSSZ (e.g. 2026-11-27.csv).",
            source=source,
            table=tname,
        )
    if when.date() > today + dt.timedelta(days=tolerance_days):
        return refuse(
            "future_extract",
            f"extract {stem} is dated after today ({today}); fix the file name — it is loaded "
            "on its day, not before.",
            source=source,
            table=tname,
            extract_id=stem,
        )
    return LandingFile(t, path, rel, stem)


def horizon(today: dt.date, as_of: dt.date | None, tolerance_days: int) -> dt.date:
    """The day extracts are judged against: today, or an explicit as-of date beyond today plus
    the tolerance (a back-test or a company simulated into the future)."""
    if as_of and as_of > today + dt.timedelta(days=tolerance_days):
        return as_of
    return today


def scan_landing(
    landing_dir: Path, *, today: dt.date | None = None, tolerance_days: int = 1
) -> LandingScan:
    """Sort every file under the landing folder into extracts (in extract order) or refusals."""
    landing = Path(landing_dir).resolve()
    today = today or dt.datetime.now(dt.UTC).date()
    scan = LandingScan()
    if not landing.is_dir():
        return scan
    found: list[LandingFile] = []
    for root, dirs, names in os.walk(landing, followlinks=False):
        base = Path(root)
        for d in sorted(dirs):  # links to folders are not walked: refuse them
            if (base / d).is_symlink():
                names.append(d)
        dirs[:] = sorted(d for d in dirs if not (base / d).is_symlink())
        if base == landing and MAPPING_FOLDER in dirs:
            dirs.remove(MAPPING_FOLDER)
        for name in sorted(names):
            path = base / name
            rel = path.relative_to(landing).as_posix()
            if path.is_dir() and not path.is_symlink():
                continue
            if path.is_symlink() and path.resolve().is_dir():
                target = path.resolve()
                code = "misplaced_file" if target.is_relative_to(landing) else "outside_landing"
                scan.refused.append(
                    RefusedFile(
                        rel,
                        path,
                        code,
                        f"{rel}: a link to the folder {target}; links to folders are not "
                        "followed — put the extract files themselves here.",
                    )
                )
                continue
            got = _classify(landing, path, rel, today, tolerance_days)
            (found if isinstance(got, LandingFile) else scan.refused).append(got)  # type: ignore[arg-type]
    by_extract: dict[tuple[str, str], list[LandingFile]] = defaultdict(list)
    for f in found:
        by_extract[(f.table.qualified_name, f.extract_id)].append(f)
    for (qname, ext), group in by_extract.items():
        if len(group) == 1:
            scan.files.append(group[0])
            continue
        others = ", ".join(g.rel for g in group)
        for g in group:
            scan.refused.append(
                RefusedFile(
                    g.rel,
                    g.path,
                    "duplicate_extract",
                    f"{g.rel}: {qname} has {len(group)} files for extract {ext} ({others}); "
                    "keep exactly one.",
                    source=g.table.source,
                    table=g.table.name,
                    extract_id=ext,
                )
            )
    order = {t.qualified_name: i for i, t in enumerate(TABLES)}
    scan.files.sort(key=lambda f: (order[f.table.qualified_name], f.extract_id, f.rel))
    scan.refused.sort(key=lambda r: r.rel)
    return scan


def table_files(
    landing_dir: Path, table: Table, *, today: dt.date | None = None, tolerance_days: int = 1
) -> list[LandingFile]:
    """Accepted extract files of one table, in extract order."""
    scan = scan_landing(landing_dir, today=today, tolerance_days=tolerance_days)
    return scan.for_table(table)


def latest_extract_date(
    landing_dir: Path, *, today: dt.date | None = None, tolerance_days: int = 1
) -> dt.date | None:
    return scan_landing(
        landing_dir, today=today, tolerance_days=tolerance_days
    ).latest_extract_date()
