"""Digests of a generated company (landing folder + truth manifest), one per file.

CSV and other files are hashed as bytes. Parquet files are hashed by their decoded rows
(column names, then every value), because their bytes embed the writer's library version. A
symbolic link is hashed by its target text, not the file it points at."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq


def file_digest(p: Path) -> str:
    if p.is_symlink():
        return "link:" + hashlib.sha256(str(p.readlink()).encode()).hexdigest()
    if p.suffix == ".parquet":
        try:
            t = pq.read_table(p)
        except Exception:  # a deliberately broken file: its bytes are what we wrote
            return hashlib.sha256(p.read_bytes()).hexdigest()
        h = hashlib.sha256(json.dumps(t.column_names).encode())
        for row in zip(*(c.to_pylist() for c in t.columns), strict=True):
            h.update(json.dumps(row).encode())
        return "rows:" + h.hexdigest()
    return hashlib.sha256(p.read_bytes()).hexdigest()


def company_digests(landing: Path) -> dict[str, str]:
    """Relative path (truth files under `truth/`) -> digest, for every file generate() wrote."""
    out: dict[str, str] = {}
    truth = landing.parent / f"{landing.name}.truth"
    for root, prefix in ((landing, ""), (truth, "truth/")):
        for p in sorted(root.rglob("*")):
            if p.is_file() or p.is_symlink():
                out[prefix + p.relative_to(root).as_posix()] = file_digest(p)
    return out


def combined(digests: dict[str, str]) -> str:
    """One digest of a whole company."""
    return hashlib.sha256(json.dumps(sorted(digests.items())).encode()).hexdigest()
