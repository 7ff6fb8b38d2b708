"""Clean output honours the contract: tables, columns, types, enums, keys, extracts, determinism."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from pipelines.contract import TABLES
from pipelines.generate import generate
from pipelines.generate.validate import check_row, read_rows

from .helpers import DAILY, END, SMALL, table_files


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_deterministic_and_seed_sensitive(clean, tmp_path):
    root, _ = clean
    again = tmp_path / "again"
    generate(again, **SMALL)
    assert _digest(again) == _digest(root)
    assert _digest(again.parent / "again.truth") == _digest(root.parent / "landing.truth")
    other = tmp_path / "other"
    generate(other, **{**SMALL, "seed": 8})
    assert _digest(other) != _digest(root)


def test_every_table_column_type_enum_and_key(clean):
    root, res = clean
    assert set(res.row_counts) == {t.qualified_name for t in TABLES}
    for t in TABLES:
        files = table_files(root, t)
        assert files, t.qualified_name
        assert files[0].stem == END.isoformat()
        for p in files:
            header, rows = read_rows(p)
            assert tuple(header) == t.column_names, p
            keys = set()
            for i, r in enumerate(rows, 1):
                assert not check_row(t, r), (p, i, r, check_row(t, r))
                k = tuple(r[c] for c in t.key)
                assert k not in keys, (p, i, k)
                keys.add(k)
        assert res.row_counts[t.qualified_name] > 0, t.qualified_name


def test_extract_layout(clean):
    root, res = clean
    days = [(END + dt.timedelta(days=k)).isoformat() for k in range(DAILY + 1)]
    assert all(p.stem in days and p.suffix == ".csv" for p in res.files)
    assert not (root / "truth").exists() and res.truth_dir == root.parent / "landing.truth"
    for t in TABLES:
        stems = [p.stem for p in table_files(root, t)]
        if t.load_mode == "snapshot":
            assert stems == days, t.qualified_name  # every extract carries the full table
    # daily extracts hold only that day's facts; no line dated after its extract
    for p in table_files(
        root, TABLES[[t.qualified_name for t in TABLES].index("billing.invoices")]
    ):
        _, rows = read_rows(p)
        assert all(r["invoice_date"] <= p.stem and r["updated_at"][:10] <= p.stem for r in rows)
        if p.stem != days[0]:
            assert all(r["updated_at"][:10] == p.stem for r in rows)
    usage = root / "billing" / "usage"
    for p in sorted(usage.glob("*.csv"))[1:]:
        _, rows = read_rows(p)
        assert rows and all(r["received_at"][:10] == p.stem for r in rows)


def test_csv_forms(clean):
    root, _ = clean
    text = (root / "billing" / "plans" / f"{END.isoformat()}.csv").read_text(encoding="utf-8")
    assert '"Platform Core (monthly, per seat)"' in text  # RFC 4180 quoting of commas
    assert ",true," in text and ",false," in text


def test_parquet(tmp_path):
    out = tmp_path / "pq"
    res = generate(
        out, scale=0.02, seed=3, start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31), fmt="parquet"
    )
    assert res.files and all(p.suffix == ".parquet" for p in res.files)
    t = next(t for t in TABLES if t.qualified_name == "billing.invoices")
    header, rows = read_rows(out / "billing" / "invoices" / "2025-03-31.parquet")
    assert tuple(header) == t.column_names and rows


def test_row_counts_match_files(clean):
    root, res = clean
    seen = dict.fromkeys(res.row_counts, 0)
    for p in res.files:
        rel = p.relative_to(root).parts
        seen[f"{rel[0]}.{rel[1]}"] += len(read_rows(p)[1])
    assert seen == res.row_counts


def test_progress_reports(tmp_path):
    msgs: list[str] = []
    generate(
        tmp_path / "x",
        scale=0.01,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 2, 28),
        progress=msgs.append,
    )
    assert msgs and msgs[-1].startswith("wrote")
