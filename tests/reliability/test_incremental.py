"""Class 4: incremental = full. Whatever order extracts arrive in, and whatever files are
re-delivered with other content, the warehouse after the last nightly load equals a full load of
the same final landing folder: raw, quarantine and the live load log.

Rules under test: winners by extract id (then version), never by arrival; a snapshot's
deletions come from its latest extract; a changed file under a known name is a new delivery that
supersedes the old one (its table is reloaded from all its files)."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
from landing_fixture import clean_rows, write_csv
from reliability_helpers import fresh_warehouse

from pipelines.contract import table
from pipelines.ingest.landing import scan_landing
from pipelines.ingest.load import load_table

TABLES = [
    table(n) for n in ("crm.accounts", "support.tickets", "billing.payments", "reference.fx_rates")
]
DAYS = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]


def rows_for(qname: str, day: str, version: int) -> list[dict[str, str]]:
    """Deterministic content of one delivery (version 2 = a re-delivery with other content)."""
    rng = random.Random(f"{qname}|{day}|{version}")
    base = clean_rows(day, 0)[qname][0]
    out: list[dict[str, str]] = []
    if qname == "crm.accounts":  # a snapshot: a changing set of 12 accounts
        for i in range(12):
            if rng.random() < 0.15:
                continue  # absent from this snapshot: deleted while it is the latest
            out.append(dict(base, account_id=f"A{i:02d}", account_name=f"Co {i} {day}"))
    elif qname == "support.tickets":  # versioned: the greatest updated_at wins, ties later file
        for i in range(6):
            hour = rng.choice(["08", "09", "09", "10"])
            out.append(
                dict(
                    base,
                    ticket_id=f"T{i}",
                    status=rng.choice(["open", "pending", "solved"]),
                    updated_at=f"2026-01-0{rng.randint(1, 5)}T{hour}:00:00Z",
                )
            )
    elif qname == "billing.payments":  # unversioned: the latest extract wins
        for i in range(6):
            if rng.random() < 0.5:
                out.append(
                    dict(
                        base,
                        payment_id=f"P{i}",
                        amount=f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
                    )
                )
    else:
        for ccy in ("EUR", "GBP"):
            out.append(
                {"rate_date": day, "currency": ccy, "units_per_usd": f"0.{rng.randint(70, 99)}"}
            )
    if out and rng.random() < 0.4:  # a bad row now and then: quarantine must match too
        bad = dict(out[0])
        bad[
            next(
                c
                for c in bad
                if c not in ("account_id", "ticket_id", "payment_id", "rate_date", "currency")
            )
        ] = ""
        out.append(bad)
    return out


def deliver(landing: Path, qname: str, day: str, version: int) -> None:
    t = table(qname)
    write_csv(
        landing / t.source / t.name / f"{day}.csv",
        list(t.column_names),
        rows_for(qname, day, version),
    )
    if version == 2 and random.Random(f"cut|{qname}|{day}").random() < 0.3:
        path = landing / t.source / t.name / f"{day}.csv"
        path.write_bytes(path.read_bytes().rstrip(b"\r\n"))  # and a last line without a break


def nightly(con: duckdb.DuckDBPyConnection, landing: Path, run: str) -> None:
    scan = scan_landing(landing)
    for t in TABLES:
        load_table(con, t, scan.for_table(t), run)


def state(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    out = {}
    for t in TABLES:
        cols = [c.name for c in t.columns] + [
            "_file",
            "_extract_id",
            "_row_number",
            "_is_deleted",
            "_extra",
        ]
        sel = ", ".join(f'"{c}"' for c in cols)
        out[t.raw_table] = sorted(
            con.execute(f"SELECT {sel} FROM raw.{t.raw_table}").fetchall(), key=repr
        )
    out["quarantine.rows"] = sorted(
        con.execute(
            'SELECT source, "table", file, row_number, "column", reason_code, reason, raw_record, '
            "extract_id FROM quarantine.rows"
        ).fetchall(),
        key=repr,
    )
    out["quarantine.files"] = sorted(
        con.execute(
            'SELECT source, "table", file, sha256, reason_code, reason, rows_read '
            "FROM quarantine.files"
        ).fetchall(),
        key=repr,
    )
    out["load_log"] = sorted(
        con.execute(
            'SELECT source, "table", file, sha256, extract_id, rows_read, rows_loaded, '
            "rows_quarantined, status FROM audit.load_log WHERE status <> 'superseded'"
        ).fetchall(),
        key=repr,
    )
    return out


def full_load(landing: Path) -> dict[str, list[tuple]]:
    con = fresh_warehouse()
    nightly(con, landing, "full")
    try:
        return state(con)
    finally:
        con.close()


def test_any_arrival_order_and_redelivery_equals_a_full_load(tmp_path):
    deliveries = [(t.qualified_name, d) for t in TABLES for d in DAYS]
    for seq in range(12):
        rng = random.Random(seq)
        landing = tmp_path / f"seq{seq}"
        con = fresh_warehouse()
        events = [(q, d, 1) for q, d in deliveries]
        rng.shuffle(events)
        # re-deliveries: some files come again later with other content
        for q, d, _ in rng.sample(events, 5):
            events.insert(rng.randrange(events.index((q, d, 1)) + 1, len(events) + 1), (q, d, 2))
        run = 0
        for q, d, v in events:
            deliver(landing, q, d, v)
            if rng.random() < 0.35:
                run += 1
                nightly(con, landing, f"n{run}")
        nightly(con, landing, "last")
        assert state(con) == full_load(landing), f"sequence {seq}"
        con.close()


def test_a_late_older_snapshot_does_not_resurrect_a_deleted_account(con, tmp_path):
    accounts = table("crm.accounts")
    base = clean_rows("2026-01-01", 0)["crm.accounts"][0]
    folder = tmp_path / "crm" / "accounts"
    cols = list(accounts.column_names)
    write_csv(folder / "2026-01-01.csv", cols, [dict(base, account_id=a) for a in "ABC"])
    write_csv(folder / "2026-01-03.csv", cols, [dict(base, account_id=a) for a in "AB"])
    nightly(con, tmp_path, "n1")
    write_csv(folder / "2026-01-02.csv", cols, [dict(base, account_id=a) for a in "ABC"])
    nightly(con, tmp_path, "n2")
    got = con.execute("SELECT account_id, _is_deleted FROM raw.crm__accounts ORDER BY 1")
    assert got.fetchall() == [("A", False), ("B", False), ("C", True)]


def test_a_redelivered_file_supersedes_the_old_delivery(con, tmp_path):
    payments = table("billing.payments")
    base = clean_rows("2026-01-01", 0)["billing.payments"][0]
    path = tmp_path / "billing" / "payments" / "2026-01-01.csv"
    cols = list(payments.column_names)
    write_csv(path, cols, [dict(base, payment_id="P1"), dict(base, payment_id="P2")])
    nightly(con, tmp_path, "n1")
    write_csv(path, cols, [dict(base, payment_id="P1", amount="55")])  # P2 was sent in error
    nightly(con, tmp_path, "n2")
    got = con.execute("SELECT payment_id, amount FROM raw.billing__payments").fetchall()
    assert [(p, str(a)) for p, a in got] == [("P1", "55.0000")]
    log = con.execute(
        "SELECT run_id, status FROM audit.load_log WHERE file = $f ORDER BY run_id",
        {"f": "billing/payments/2026-01-01.csv"},
    ).fetchall()
    assert log == [("n1", "superseded"), ("n2", "loaded")]  # one live entry per path


def test_an_older_extracts_row_that_loses_is_counted_as_superseded(con, tmp_path):
    payments = table("billing.payments")
    base = clean_rows("2026-01-01", 0)["billing.payments"][0]
    folder = tmp_path / "billing" / "payments"
    cols = list(payments.column_names)
    write_csv(folder / "2026-01-03.csv", cols, [dict(base, payment_id="P1", amount="10")])
    nightly(con, tmp_path, "n1")
    write_csv(
        folder / "2026-01-02.csv",
        cols,
        [dict(base, payment_id="P1", amount="99"), dict(base, payment_id="P2")],
    )
    nightly(con, tmp_path, "n2")
    got = con.execute(
        "SELECT rows_read, rows_loaded, rows_superseded FROM audit.load_log WHERE run_id = 'n2'"
    ).fetchall()
    assert got == [(2, 2, 1)]  # P1 of 01-02 is valid but 01-03's P1 is newer
    amount = con.execute("SELECT amount FROM raw.billing__payments WHERE payment_id = 'P1'")
    assert str(amount.fetchall()[0][0]) == "10.0000"
