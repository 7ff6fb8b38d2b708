"""Nightly extracts never rewrite history: adding `--daily K` leaves the initial extract (and the
earlier daily ones) byte-identical, so the loader sees only the new files as new."""

import datetime as dt
import hashlib

from pipelines.generate import generate


def _hashes(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.csv"))
    }


def test_daily_extracts_only_add_files(tmp_path):
    kw = dict(scale=0.03, seed=3, start=dt.date(2025, 6, 1), end=dt.date(2025, 12, 31))
    generate(tmp_path / "d0", bad_rows=0.01, **kw)
    generate(tmp_path / "d2", bad_rows=0.01, daily=2, **kw)
    h0, h2 = _hashes(tmp_path / "d0"), _hashes(tmp_path / "d2")
    assert h0.items() <= h2.items(), "the initial extract changed when daily extracts were added"
    added = set(h2) - set(h0)
    assert added and all(f.rsplit("/", 1)[1][:10] in ("2026-01-01", "2026-01-02") for f in added)
    generate(tmp_path / "d1", bad_rows=0.01, daily=1, **kw)
    h1 = _hashes(tmp_path / "d1")
    assert h1.items() <= h2.items()
