"""Class 2: a snapshot that would delete more than the allowed share of its table blocks
publication (naming the file) unless confirmed; deletions come from the latest extract only."""

from __future__ import annotations

from pathlib import Path

import duckdb
from landing_fixture import clean_rows, write_csv

from pipelines.contract import table
from pipelines.ingest.checks import snapshot_check
from pipelines.ingest.landing import scan_landing
from pipelines.ingest.load import TableResult, load_table

ACCOUNTS = table("crm.accounts")


def accounts(n: int, skip: set[int] = frozenset()) -> list[dict[str, str]]:
    base = clean_rows("2026-01-01", 0)["crm.accounts"][0]
    return [dict(base, account_id=f"A{i:02d}") for i in range(n) if i not in skip]


def write(landing: Path, day: str, rows: list[dict[str, str]]) -> Path:
    path = landing / "crm" / "accounts" / f"{day}.csv"
    write_csv(path, list(ACCOUNTS.column_names), rows)
    return path


def load(con: duckdb.DuckDBPyConnection, landing: Path, run: str = "r") -> TableResult:
    return load_table(con, ACCOUNTS, scan_landing(landing).for_table(ACCOUNTS), run)


def deleted(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT account_id FROM raw.crm__accounts WHERE _is_deleted").fetchall()
    return {r[0] for r in rows}


def check(res: TableResult, confirmed: bool = False):
    return snapshot_check(ACCOUNTS, res.snapshot, 0.05, confirmed=confirmed)


def test_header_only_snapshot_blocks_and_names_the_file(con, tmp_path):
    write(tmp_path, "2026-01-01", accounts(40))
    assert check(load(con, tmp_path)).passed  # first snapshot: nothing to compare with
    write(tmp_path, "2026-01-02", [])
    res = load(con, tmp_path)
    out = check(res)
    assert not out.passed
    assert out.description.startswith("crm/accounts/2026-01-02.csv would mark 40 of 40")
    assert "--confirm-deletions" in out.description
    assert check(res, confirmed=True).passed


def test_half_written_snapshot_blocks(con, tmp_path):
    write(tmp_path, "2026-01-01", accounts(40))
    load(con, tmp_path)
    path = write(tmp_path, "2026-01-02", accounts(40))
    body = path.read_bytes()
    path.write_bytes(body[: len(body) // 2])  # cut mid-file, mid-row
    out = check(load(con, tmp_path))
    assert not out.passed and "(5" in out.description  # about half the keys


def test_a_few_real_deletions_pass(con, tmp_path):
    write(tmp_path, "2026-01-01", accounts(40))
    load(con, tmp_path)
    write(tmp_path, "2026-01-02", accounts(40, skip={3, 7}))  # 5 %: at the limit, allowed
    res = load(con, tmp_path)
    assert check(res).passed
    assert (res.snapshot.deleted, res.snapshot.previous_keys) == (2, 40)
    assert deleted(con) == {"A03", "A07"}


def test_full_refresh_checks_the_last_transition_too(con, tmp_path):
    write(tmp_path, "2026-01-01", accounts(40))
    write(tmp_path, "2026-01-02", accounts(40, skip={1}))
    write(tmp_path, "2026-01-03", accounts(10))
    res = load(con, tmp_path)  # all three at once, as a full refresh loads them
    assert res.snapshot.previous_file == "crm/accounts/2026-01-02.csv"
    assert (res.snapshot.previous_keys, res.snapshot.deleted) == (39, 30)
    assert not check(res).passed


def test_a_blocked_snapshot_is_superseded_by_the_next_complete_one(con, tmp_path):
    write(tmp_path, "2026-01-01", accounts(40))
    load(con, tmp_path)
    write(tmp_path, "2026-01-02", [])  # blocked: the build is not published ...
    write(tmp_path, "2026-01-03", accounts(40))  # ... and the next night's file is complete
    res = load(con, tmp_path)
    assert check(res).passed and deleted(con) == set()


def test_rows_quarantined_in_the_latest_snapshot_still_count_as_present(con, tmp_path):
    write(tmp_path, "2026-01-01", accounts(40))
    load(con, tmp_path)
    rows = accounts(40)
    rows[5]["segment"] = "galactic"  # bad enum: quarantined, but the account exists
    write(tmp_path, "2026-01-02", rows)
    res = load(con, tmp_path)
    assert check(res).passed and deleted(con) == set()
    assert res.files[0].rows_quarantined == 1
