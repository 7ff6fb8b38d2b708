"""Injected contract violations: every kind appears, every manifest row is really bad, and the
clean rows of the company are unchanged."""

from __future__ import annotations

import csv
from collections import defaultdict

from pipelines.contract import REASON_CODES, TABLES
from pipelines.contract.model import LANDING_REJECT_REASONS, RECORD_REJECT_REASONS
from pipelines.generate.validate import check_row, read_rows
from pipelines.ingest.landing import scan_landing

from .helpers import all_tables

BY_NAME = {t.qualified_name: t for t in TABLES}


def _manifest(res) -> list[dict]:
    with open(res.truth_dir / "bad_rows.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


#: Checked on hand-made data in tests/reliability/test_implausible.py instead: planted here they
#: would change the company's numbers (report-only codes leave the row loaded).
NOT_PLANTED = {"stale_fx_rate", "overpayment"}


def test_every_reason_code_appears(dirty):
    _, res = dirty
    kinds = {r["reason_code"] for r in _manifest(res)}
    assert kinds == set(REASON_CODES) - NOT_PLANTED, set(REASON_CODES) - kinds


def test_each_manifest_row_is_really_bad(dirty, clean):
    root, res = dirty
    good = all_tables(clean[0])
    fx = {(r["currency"]) for r in good["reference.fx_rates"]} | {"USD"}
    cache: dict[str, tuple[list[str], list[dict]]] = {}
    refused = {r.rel: r.code for r in scan_landing(root).refused}
    for m in _manifest(res):
        path = root / m["file"]
        reason = m["reason_code"]
        if reason in LANDING_REJECT_REASONS:
            assert refused[m["file"]] == reason, m
            continue
        t = BY_NAME[f"{m['source']}.{m['table']}"]
        if reason in RECORD_REJECT_REASONS:
            line = path.read_text().split("\n")[int(m["row_number"])]
            ends_clean = path.read_bytes().endswith(b"\n")
            if reason == "truncated_record":
                assert not ends_clean and line == path.read_text().split("\n")[-1], m
            else:
                fields = next(csv.reader([line]), [])
                assert line.count('"') % 2 == 1 or len(fields) != len(t.column_names), m
            continue
        if reason == "unreadable_file":
            try:
                path.read_bytes().decode("utf-8")
                raise AssertionError(path)
            except UnicodeDecodeError:
                continue
        header, rows = cache.setdefault(m["file"], read_rows(path))
        if reason == "missing_column":
            assert m["column"] in t.required_columns and m["column"] not in header
            continue
        if reason == "extra_column":
            assert m["column"] in header and m["column"] not in t.column_names
            continue
        i = int(m["row_number"])
        row = rows[i - 1]
        if reason == "duplicate_key":
            key = tuple(row[c] for c in t.key)
            assert any(tuple(r[c] for c in t.key) == key for r in rows[: i - 1]), m
        elif reason == "unknown_reference":
            target, col = t.column(m["column"]).references
            assert row[m["column"]] not in {r[col] for r in good[target]}, m
            assert not check_row(t, row), m  # otherwise valid
        elif reason == "no_fx_rate":
            assert row[m["column"]] not in fx and not check_row(t, row), m
        else:
            assert (m["column"], reason) in check_row(t, row), (m, row)


def test_clean_rows_unchanged(dirty, clean):
    """Dropping the manifest's rows (and the extra column) gives the clean files back."""
    root, res = dirty
    bad = defaultdict(set)
    for m in _manifest(res):
        if m["row_number"]:
            bad[m["file"]].add(int(m["row_number"]))
    for p in clean[1].files:
        rel = p.relative_to(clean[0]).as_posix()
        _, want = read_rows(p)
        t = BY_NAME[".".join(rel.split("/")[:2])]
        _, got = read_rows(root / rel)
        got = [{c: r[c] for c in t.column_names} for i, r in enumerate(got, 1) if i not in bad[rel]]
        assert got == want, rel
