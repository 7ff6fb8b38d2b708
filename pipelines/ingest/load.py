"""Load a table's new extract files into `raw.<source>__<table>`, following its load mode.

A file is read a batch at a time (polars, every column as text, see `records`). Each batch is
validated and typed by one set-based SQL pass in DuckDB: failing rows go to a small table with
their text, valid rows go typed into raw itself when the table was empty (a full build writes
each row once) or into a staging table merged into raw afterwards by hash joins on the key.
Repeated keys, one row per key across files and snapshot deletions are then settled in SQL.
No file or table is ever held whole in Python, and DuckDB spills past its memory limit.

Everything happens in one transaction per table: a retry after a crash starts from a consistent
state, and a file already in `audit.load_log` (same path and sha256) is skipped, so loading an
extract twice changes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import queue
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines.contract import TABLES, ColumnType, LoadMode, Table
from pipelines.contract.model import LINEAGE_COLUMNS
from pipelines.ingest.landing import LandingFile
from pipelines.ingest.records import (
    FileRejectedError,
    RecordReject,
    countable_rows,
    read_records,
    read_rows,
)
from pipelines.ingest.sql import Params, ident, inline, raw_table_ref
from pipelines.ingest.validate import describe, failure_case, is_missing, typed_expr

FAILS = "__ingest_fails"
NEW = "__ingest_new"
PREV = "__ingest_prev_keys"
KEYS = "__ingest_keys"
DUPS = "__ingest_dups"
BATCH = "__ingest_batch"
#: Column list of each raw table, contract columns then lineage (as its DDL declares them).
_RAW_COLUMNS = {
    t.raw_table: ", ".join(ident(c) for c in [*t.column_names, *(n for n, _, _ in LINEAGE_COLUMNS)])
    for t in TABLES
}
#: Failing rows turned into quarantine rows at a time (the reasons are written in Python).
FAIL_PAGE = 20_000
#: Key types whose valid texts and typed values correspond one to one: a file's distinct key
#: texts are distinct keys (a DATE must be written YYYY-MM-DD), and a typed key cast back to
#: text is the text the file had.
_TEXT_KEYS = (
    ColumnType.ID,
    ColumnType.TEXT,
    ColumnType.ENUM,
    ColumnType.CURRENCY,
    ColumnType.DATE,
)


@dataclass
class FileResult:
    """What happened to one extract file (one `audit.load_log` row)."""

    file: str
    source: str
    table: str
    extract_id: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    status: str  # loaded | loaded_with_rejects | rejected
    reasons: Counter[str] = field(default_factory=Counter)
    extra_columns: tuple[str, ...] = ()
    rows_superseded: int = 0  # loaded, but a newer version of the key was already kept


@dataclass(frozen=True)
class SnapshotChange:
    """A snapshot table's latest extract changed: how many keys of the previous one it drops."""

    file: str
    previous_file: str | None
    previous_keys: int
    deleted: int

    @property
    def share(self) -> float:
        return self.deleted / self.previous_keys if self.previous_keys else 0.0


@dataclass
class TableResult:
    table: str
    files: list[FileResult] = field(default_factory=list)
    skipped: int = 0  # files already loaded (same path and sha256)
    reloaded_because: list[str] = field(default_factory=list)  # re-delivered files
    missing: list[str] = field(default_factory=list)  # loaded before, no longer in the folder
    snapshot: SnapshotChange | None = None

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_superseded(self) -> int:
        return sum(f.rows_superseded for f in self.files)


def _header(lf: LandingFile, columns: list[str]) -> tuple[str, ...]:
    """The file's extra columns (not in the contract); refuses a header missing a required one."""
    t = lf.table
    missing = [c for c in t.required_columns if c not in columns]
    if missing:
        raise FileRejectedError(
            "missing_column",
            f"{lf.rel}: required column(s) {', '.join(missing)} missing from the header; the "
            f"whole file was set aside — re-export {t.qualified_name} with every contract column.",
            countable_rows(lf),
        )
    return tuple(c for c in columns if c not in t.column_names)


def _normalise(
    lf: LandingFile, columns: list[str], extras: tuple[str, ...], df: pl.DataFrame
) -> pl.DataFrame:
    """Contract columns (missing optional ones as NULL) + lineage; extras folded into JSON."""
    t = lf.table
    extra_expr = (
        pl.struct([pl.col(c) for c in extras]).struct.json_encode()
        if extras
        else pl.lit(None, dtype=pl.String)
    )
    cols = [
        pl.col(c) if c in columns else pl.lit(None, dtype=pl.String).alias(c)
        for c in t.column_names
    ]
    return df.select(
        *cols,
        pl.lit(lf.rel).alias("__file"),
        pl.lit(lf.extract_id).alias("__extract_id"),
        pl.col("__row"),
        extra_expr.alias("__extra"),
    )


@dataclass
class _Staging:
    """Where a load puts its rows: valid rows typed into `target` (raw itself when the table
    was empty, so a full build writes each row once; else a temp table merged afterwards),
    failing rows with their text into FAILS, and, for snapshot tables, every row's key."""

    t: Table
    target: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    @property
    def direct(self) -> bool:
        return self.target != NEW


def _open_staging(con: duckdb.DuckDBPyConnection, t: Table) -> _Staging:
    raw = raw_table_ref(t.raw_table)
    keys = ", ".join(ident(k) for k in t.key)
    if t.load_mode is LoadMode.SNAPSHOT:
        # keys not deleted before this load (the previous snapshot's keys), for the guard
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {PREV} AS SELECT {keys} FROM {raw} WHERE NOT _is_deleted"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {KEYS} AS "
            f"SELECT _file, _row_number, {keys} FROM {raw} LIMIT 0"
        )
    text = ", ".join(f"{ident(c)} VARCHAR" for c in t.column_names)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FAILS} (__file VARCHAR, __row BIGINT, "
        f"codes VARCHAR[], {text}, __extra VARCHAR)"
    )
    empty = not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {raw} LIMIT 1)").fetchall()[0][0]
    if empty:
        return _Staging(t, raw)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {NEW} AS SELECT * FROM {raw} LIMIT 0")
    return _Staging(t, NEW)


def _stage_batch(
    con: duckdb.DuckDBPyConnection, st: _Staging, df: pl.DataFrame, loaded_at: dt.datetime
) -> None:
    """One batch, set-based: its failing rows (with every failure code) to FAILS, the others
    typed into the target. Each row is validated once and typed once. The batch is scanned as an
    Arrow relation, not a registered view: inside the load's transaction DuckDB keeps every
    registered object alive until the commit, so a registered batch would never be freed."""
    t = st.t
    batch = con.from_arrow(df.to_arrow())
    p = Params()
    cases = [failure_case(t, c, p) for c in t.columns]
    fails = " OR ".join(f"({c}) IS NOT NULL" for c in cases)
    text = ", ".join(ident(c) for c in t.column_names)
    sql = (
        f"INSERT INTO {FAILS} SELECT __file, __row, [{', '.join(cases)}], {text}, __extra "
        f"FROM {BATCH} WHERE {fails}"
    )
    batch.query(BATCH, inline(sql, p.values))
    p = Params()
    typed = ", ".join(f"{typed_expr(c, p)}" for c in t.columns)
    lo = p(int(df["__row"].min()))
    sql = f"""INSERT INTO {st.target} ({_RAW_COLUMNS[t.raw_table]})
              SELECT {typed}, __file, __extract_id, __row, CAST({p(loaded_at)} AS TIMESTAMP),
                     false, __extra
              FROM {BATCH} b
              WHERE NOT EXISTS (SELECT 1 FROM {FAILS} f WHERE f.__file = b.__file
                                AND f.__row >= {lo} AND f.__row = b.__row)"""
    batch.query(BATCH, inline(sql, p.values))
    if t.load_mode is LoadMode.SNAPSHOT:
        p = Params()
        keys = ", ".join(typed_expr(t.column(k), p) for k in t.key)
        sql = f"INSERT INTO {KEYS} SELECT __file, __row, {keys} FROM {BATCH}"
        batch.query(BATCH, inline(sql, p.values))


def _stage(
    con: duckdb.DuckDBPyConnection, st: _Staging, lf: LandingFile, loaded_at: dt.datetime
) -> tuple[tuple[str, ...], int, list[RecordReject]]:
    """Read a file a batch at a time into the staging; returns its extra columns, rows read and
    the lines set aside. A file refused part-way leaves nothing behind."""
    recs = read_records(lf)
    extras = _header(lf, recs.columns)
    try:
        batches = (_normalise(lf, recs.columns, extras, df) for df in recs.batches())
        for df in _read_ahead(batches):
            _stage_batch(con, st, df, loaded_at)
        if recs.retracted:  # the cut-off last line of a file without a final line break
            _unstage(con, st, lf.rel, recs.retracted)
    except FileRejectedError:  # (any other error rolls the whole load back)
        _unstage(con, st, lf.rel, None)
        raise
    st.headers[lf.rel] = recs.columns
    return extras, recs.rows_read, recs.rejects


def _read_ahead(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The batches, the next one read (polars) while DuckDB works on this one: both release
    the GIL, so two cores overlap. One batch ahead at most, so memory stays two batches."""
    ahead: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for df in batches:
                while not stop.is_set():
                    try:
                        ahead.put(("batch", df), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ahead.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            ahead.put(("error", exc))

    reader = threading.Thread(target=produce, name="ingest-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            kind, item = ahead.get()
            if kind == "end":
                return
            if kind == "error":
                raise item  # type: ignore[misc]
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            ahead.get_nowait()  # unblock a reader waiting to put
        reader.join()


def _unstage(
    con: duckdb.DuckDBPyConnection, st: _Staging, file: str, rows: list[int] | None
) -> None:
    """Take a file's rows (all, or the given row numbers) out of the staging again."""
    p: dict[str, object] = {"f": file} if rows is None else {"f": file, "rows": rows}
    some = "" if rows is None else " AND list_contains($rows, {})"
    con.execute(f"DELETE FROM {FAILS} WHERE __file = $f{some.format('__row')}", p)
    con.execute(f"DELETE FROM {st.target} WHERE _file = $f{some.format('_row_number')}", p)
    if st.t.load_mode is LoadMode.SNAPSHOT:
        con.execute(f"DELETE FROM {KEYS} WHERE _file = $f{some.format('_row_number')}", p)


def _live_log(con: duckdb.DuckDBPyConnection, t: Table) -> dict[str, tuple[str, str, str]]:
    """Files of `t` in audit.load_log that still count: {file: (sha256, extract_id, status)}."""
    rows = con.execute(
        """SELECT file, sha256, extract_id, status FROM audit.load_log
           WHERE source = $s AND "table" = $t AND status <> 'superseded'
           ORDER BY loaded_at""",
        {"s": t.source, "t": t.name},
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _reset_table(con: duckdb.DuckDBPyConnection, t: Table) -> None:
    """Forget every load of `t` (kept in audit.load_log as 'superseded'): it is reloaded whole."""
    p = {"s": t.source, "t": t.name}
    con.execute(
        """UPDATE audit.load_log SET status = 'superseded'
           WHERE source = $s AND "table" = $t AND status <> 'superseded'""",
        p,
    )
    con.execute(
        'DELETE FROM quarantine.rows WHERE source = $s AND "table" = $t AND mapping IS NULL', p
    )
    con.execute(
        'DELETE FROM quarantine.files WHERE source = $s AND "table" = $t AND reason_code IN '
        "('missing_column', 'unreadable_file')",
        p,
    )
    con.execute('DELETE FROM audit.schema_drift WHERE source = $s AND "table" = $t', p)
    con.execute(f"DELETE FROM {raw_table_ref(t.raw_table)}")


def load_table(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    files: Iterable[LandingFile],
    run_id: str,
    loaded_at: dt.datetime | None = None,
) -> TableResult:
    """Load the files of `t` not yet loaded; one transaction for the whole table.

    The result only depends on the set of files, never on the order they arrived in: winners by
    extract id (and version), snapshot deletions from the latest extract. A file re-delivered
    under a known name with other content supersedes the old delivery: the table is reloaded
    from all its files, exactly as a full rebuild would load it.
    """
    loaded_at = loaded_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    files = list(files)
    result = TableResult(t.qualified_name)
    live = _live_log(con, t)
    shas = {lf.rel: lf.sha256() for lf in files}
    result.reloaded_because = sorted(
        r for r, sha in shas.items() if r in live and live[r][0] != sha
    )
    result.missing = sorted(set(live) - set(shas))
    if result.reloaded_because:
        todo = files
    else:
        todo = [lf for lf in files if lf.rel not in live]
        result.skipped = len(files) - len(todo)
    if not todo:
        return result

    pending: list[tuple[LandingFile, str]] = []
    rejected: list[tuple[LandingFile, str, FileRejectedError]] = []
    record_rejects: dict[str, tuple[list[str], list[RecordReject]]] = {}
    drift: list[dict[str, object]] = []
    con.execute("BEGIN TRANSACTION")
    try:
        if result.reloaded_because:
            _reset_table(con, t)
        st = _open_staging(con, t)
        for lf in todo:
            sha = shas[lf.rel]
            try:
                extras, rows_read, rejects = _stage(con, st, lf, loaded_at)
            except FileRejectedError as rej:
                rejected.append((lf, sha, rej))
                continue
            pending.append((lf, sha))
            if rejects:
                record_rejects[lf.rel] = (st.headers[lf.rel], rejects)
            drift += [{"file": lf.rel, "extract_id": lf.extract_id, "column": c} for c in extras]
            fr = FileResult(lf.rel, t.source, t.name, lf.extract_id, sha, rows_read, 0, 0, "")
            fr.extra_columns = extras
            for rr in rejects:
                fr.rows_quarantined += 1
                fr.reasons[rr.code] += 1
            result.files.append(fr)
        bad_rows = _settle(con, st, pending, run_id, loaded_at)
        _quarantine_records(con, t, record_rejects, pending, run_id, loaded_at)
        by_file = {f.file: f for f in result.files}
        for file, codes in bad_rows.items():
            by_file[file].rows_quarantined += codes.total()
            by_file[file].reasons.update(codes)
        kept = _rows_kept(con, t, [lf.rel for lf, _ in pending])
        for f in result.files:
            f.rows_loaded = f.rows_read - f.rows_quarantined
            f.rows_superseded = max(f.rows_loaded - kept.get(f.file, 0), 0)
            f.status = "loaded_with_rejects" if f.rows_quarantined else "loaded"
        if t.load_mode is LoadMode.SNAPSHOT:
            result.snapshot = _apply_snapshot(con, t, pending, live)
        for lf, sha, rej in rejected:
            result.files.append(
                FileResult(
                    lf.rel,
                    t.source,
                    t.name,
                    lf.extract_id,
                    sha,
                    rej.rows_read,
                    0,
                    rej.rows_read,
                    "rejected",
                    Counter({rej.code: 1}),
                )
            )
        _write_bookkeeping(con, t, result, rejected, drift, run_id, loaded_at)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in (FAILS, NEW, PREV, KEYS, DUPS):
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DROP TABLE IF EXISTS {name}")
    result.files.sort(key=lambda f: (f.extract_id, f.file))
    return result


def _rows_kept(con: duckdb.DuckDBPyConnection, t: Table, files: list[str]) -> dict[str, int]:
    """Rows of each file that raw holds after the merge (the rest lost to newer versions)."""
    if not files:
        return {}
    rows = con.execute(
        f"SELECT _file, count(*) FROM {raw_table_ref(t.raw_table)} "
        "WHERE list_contains($files, _file) GROUP BY _file",
        {"files": files},
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _quarantine_records(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    record_rejects: dict[str, tuple[list[str], list[RecordReject]]],
    pending: list[tuple[LandingFile, str]],
    run_id: str,
    loaded_at: dt.datetime,
) -> None:
    """Lines that could not be split into fields: quarantined with their text (and, where the
    line still splits, its fields by header name, so the key stays visible)."""
    extract_of = {lf.rel: lf.extract_id for lf, _ in pending}
    qrows = []
    for file, (header, rejects) in record_rejects.items():
        for rr in rejects:
            try:
                fields = next(csv.reader([rr.text]))
            except csv.Error:
                fields = []
            record = {"_line": rr.text, **dict(zip(header, fields, strict=False))}
            qrows.append(
                {
                    "source": t.source,
                    "table": t.name,
                    "file": file,
                    "row_number": rr.row,
                    "column": None,
                    "reason_code": rr.code,
                    "reason": rr.reason,
                    "raw_record": json.dumps(record, ensure_ascii=False),
                    "run_id": run_id,
                    "extract_id": extract_of[file],
                    "quarantined_at": loaded_at,
                }
            )
    if qrows:
        schema = {"column": pl.String}
        _insert_frame(con, "quarantine.rows", pl.DataFrame(qrows, schema_overrides=schema))


def _settle(
    con: duckdb.DuckDBPyConnection,
    st: _Staging,
    pending: list[tuple[LandingFile, str]],
    run_id: str,
    loaded_at: dt.datetime,
) -> dict[str, Counter[str]]:
    """After every file is staged: quarantine the failing rows and the repeated keys, keep one
    row per key across the files, merge into raw; returns the reason codes set aside per file."""
    if not pending:
        return {}
    extract_of = {lf.rel: lf.extract_id for lf, _ in pending}
    bad: dict[str, Counter[str]] = {}
    for qrows in _failing_rows(con, st, extract_of, run_id, loaded_at, bad):
        _insert_frame(con, "quarantine.rows", pl.DataFrame(qrows))
    qrows = _repeated_keys(con, st, [lf for lf, _ in pending], run_id, loaded_at, bad)
    if qrows:
        _insert_frame(con, "quarantine.rows", pl.DataFrame(qrows))
    _one_per_key(con, st, n_files=len(pending))
    if not st.direct:
        _merge(con, st.t)
    return bad


def _qrow(
    t: Table, file: str, row: int, column: str, code: str, reason: str, record: dict, **ctx: object
) -> dict[str, object]:
    return {
        "source": t.source,
        "table": t.name,
        "file": file,
        "row_number": row,
        "column": column,
        "reason_code": code,
        "reason": reason,
        "raw_record": json.dumps(record, ensure_ascii=False),
        "run_id": ctx["run_id"],
        "extract_id": ctx["extract_id"],
        "quarantined_at": ctx["loaded_at"],
    }


def _failing_rows(
    con: duckdb.DuckDBPyConnection,
    st: _Staging,
    extract_of: dict[str, str],
    run_id: str,
    loaded_at: dt.datetime,
    bad: dict[str, Counter[str]],
) -> Iterator[list[dict[str, object]]]:
    """Quarantine rows for the rows that failed validation, a page at a time (with the text
    the file had: failing rows are staged as text)."""
    t = st.t
    n_fails = con.execute(f"SELECT count(*) FROM {FAILS}").fetchall()[0][0]
    cols = ", ".join(ident(c) for c in t.column_names)
    for lo in range(0, n_fails, FAIL_PAGE):
        page = con.execute(
            f"SELECT __file, __row, codes, {cols}, __extra FROM {FAILS} "
            f"ORDER BY __file, __row LIMIT {FAIL_PAGE} OFFSET {lo}"
        ).fetchall()
        qrows = []
        for file, row, codes, *values in page:
            problems = [(c.name, code) for c, code in zip(t.columns, codes, strict=True) if code]
            original = _original(t, st.headers[file], values)
            column, code = problems[0]
            reason = describe(t, file, row, column, code, original.get(column), 0)
            if len(problems) > 1:
                reason += " Also: " + "; ".join(f"{c} {k}" for c, k in problems[1:]) + "."
            bad.setdefault(file, Counter())[code] += 1
            ctx = {"run_id": run_id, "extract_id": extract_of[file], "loaded_at": loaded_at}
            qrows.append(_qrow(t, file, row, column, code, reason, original, **ctx))
        yield qrows


def _repeated_keys(
    con: duckdb.DuckDBPyConnection,
    st: _Staging,
    files: list[LandingFile],
    run_id: str,
    loaded_at: dt.datetime,
    bad: dict[str, Counter[str]],
) -> list[dict[str, object]]:
    """A key repeated within a file: its first row is loaded, the later valid ones are set
    aside as duplicate_key (a failing row still counts as the key's occurrence). Found with one
    aggregate over key hashes, then checked on the keys themselves; the rows' text is read back
    from the file (they are rare, and only valid rows were typed)."""
    t = st.t
    keys = [ident(k) for k in t.key]
    as_text = ", ".join(f"CAST({k} AS VARCHAR) AS {k}" for k in keys)
    present = " AND ".join(f"NOT {is_missing(k)}" for k in keys)
    on = " AND ".join(f"c.{k} = d.{k}" for k in keys)
    hashed = f"hash({', '.join(keys)})"
    hashed_k = f"hash({', '.join(f'k.{k}' for k in keys)})"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {DUPS} AS
            WITH k AS NOT MATERIALIZED (
                SELECT _file AS __file, _row_number AS __row, {as_text}, true AS valid
                FROM {st.target}
                UNION ALL
                SELECT __file, __row, {", ".join(keys)}, false FROM {FAILS} WHERE {present}
            ),
            h AS (SELECT __file, {hashed} AS h FROM k GROUP BY ALL HAVING count(*) > 1),
            c AS (SELECT k.* FROM k SEMI JOIN h ON k.__file = h.__file AND {hashed_k} = h.h),
            d AS (SELECT __file, {", ".join(keys)}, min(__row) AS first_row
                  FROM c GROUP BY ALL HAVING count(*) > 1)
            SELECT c.__file, c.__row, d.first_row
            FROM c JOIN d ON c.__file = d.__file AND {on}
            WHERE c.valid AND c.__row > d.first_row""",
    )
    dups = con.execute(f"SELECT __file, __row, first_row FROM {DUPS} ORDER BY ALL").fetchall()
    if not dups:
        return []
    by_rel = {lf.rel: lf for lf in files}
    wanted: dict[str, dict[int, int]] = {}
    for file, row, first_row in dups:
        wanted.setdefault(file, {})[row] = first_row
    qrows = []
    for file, rows in wanted.items():
        lf = by_rel[file]
        originals = read_rows(lf, set(rows), st.headers[file])
        for row, first_row in sorted(rows.items()):
            original = originals[row]
            column, code = "+".join(t.key), "duplicate_key"
            value = "+".join(str(original.get(k)) for k in t.key)
            reason = describe(t, file, row, column, code, value, first_row)
            bad.setdefault(file, Counter())[code] += 1
            ctx = {"run_id": run_id, "extract_id": lf.extract_id, "loaded_at": loaded_at}
            qrows.append(_qrow(t, file, row, column, code, reason, original, **ctx))
    con.execute(
        f"DELETE FROM {st.target} AS r USING {DUPS} d "
        "WHERE r._file = d.__file AND r._row_number = d.__row"
    )
    return qrows


def _original(t: Table, header: list[str], values: list[object]) -> dict[str, object]:
    """A staged row as the file had it: its header's columns in order, extras included."""
    *contract, extra = values
    by_name = dict(zip(t.column_names, contract, strict=True))
    if extra:
        by_name.update(json.loads(extra))
    return {c: by_name.get(c) for c in header}


def _one_per_key(con: duckdb.DuckDBPyConnection, st: _Staging, *, n_files: int) -> None:
    """One row per key among the rows staged, the winner by the table's load mode (greatest
    version, then latest extract id, then file name), whatever the arrival order. Within one
    file a repeated key is already set aside, so one file of text keys needs nothing."""
    t = st.t
    if n_files <= 1 and all(t.column(k).type in _TEXT_KEYS for k in t.key):
        return
    keys = ", ".join(ident(k) for k in t.key)
    # the window sorts keys and row ids only, not whole rows
    con.execute(
        f"""DELETE FROM {st.target} WHERE rowid IN (
                SELECT rowid FROM {st.target}
                QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {_order(t)}) > 1)"""
    )


def _order(t: Table) -> str:
    order = "_extract_id DESC, _file DESC"
    if t.load_mode is LoadMode.APPEND and t.version:
        order = f"{ident(t.version)} DESC NULLS LAST, {order}"
    return order


def _merge(con: duckdb.DuckDBPyConnection, t: Table) -> None:
    """Merge the staged rows into raw (a table that already held rows): a staged row replaces
    the raw row of its key if it wins, and is added if its key is new."""
    raw = raw_table_ref(t.raw_table)
    join = " AND ".join(f"n.{ident(k)} = r.{ident(k)}" for k in t.key)
    wins = (
        "(n._extract_id > r._extract_id OR (n._extract_id = r._extract_id AND n._file >= r._file))"
    )
    if t.load_mode is LoadMode.APPEND and t.version:
        v = ident(t.version)
        wins = f"(n.{v} > r.{v} OR (n.{v} = r.{v} AND {wins}))"
    # a hash join on the key (DELETE ... USING; a correlated EXISTS here scans raw row by row)
    con.execute(f"DELETE FROM {raw} AS r USING {NEW} n WHERE {join} AND {wins}")
    cols = _RAW_COLUMNS[t.raw_table]
    con.execute(
        f"INSERT INTO {raw} ({cols}) SELECT {cols} FROM {NEW} n "
        f"WHERE NOT EXISTS (SELECT 1 FROM {raw} r WHERE {join})"
    )


def _insert_frame(con: duckdb.DuckDBPyConnection, target: str, df: pl.DataFrame) -> None:
    """Bulk insert of a small frame into a bookkeeping table (columns named as the target's)."""
    con.register("__ingest_insert", df)
    cols = ", ".join(f'"{c}"' for c in df.columns)  # names from this module, not from files
    con.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM __ingest_insert")
    con.unregister("__ingest_insert")


def _apply_snapshot(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    pending: list[tuple[LandingFile, str]],
    live: dict[str, tuple[str, str, str]],
) -> SnapshotChange | None:
    """Snapshot: a key is deleted iff the latest loaded extract (by extract id) lacks it; its
    rejected rows still count as present. Recomputed from the files on every load, so a late,
    older extract cannot resurrect a key. Returns the change when the latest extract is new."""
    loaded = {rel: ext for rel, (_sha, ext, status) in live.items() if status != "rejected"}
    loaded.update({lf.rel: lf.extract_id for lf, _ in pending})
    if not loaded:
        return None
    latest = max(loaded, key=lambda r: (loaded[r], r))
    p = Params()
    raw = raw_table_ref(t.raw_table)
    keys = [ident(k) for k in t.key]
    present_q = " AND ".join(
        f"json_extract_string(q.raw_record, {p('$.' + k)}) = CAST(r.{ident(k)} AS VARCHAR)"
        for k in t.key
    )
    con.execute(
        f"""UPDATE {raw} AS r SET _is_deleted = NOT (
                r._file = {p(latest)}
                OR EXISTS (SELECT 1 FROM quarantine.rows q
                           WHERE q.source = {p(t.source)} AND q."table" = {p(t.name)}
                             AND q.file = {p(latest)} AND {present_q}))""",
        p.values,
    )
    new_files = {lf.rel for lf, _ in pending}
    if latest not in new_files:
        return None
    before = [r for r in loaded if (loaded[r], r) < (loaded[latest], latest)]
    previous = max(before, key=lambda r: (loaded[r], r)) if before else None
    if previous is None:
        return None
    join = " AND ".join(f"k.{c} = r.{c}" for c in keys)
    if previous in new_files:
        p2 = Params()
        prev_keys = (
            f"(SELECT DISTINCT {', '.join(keys)} FROM {KEYS} WHERE _file = {p2(previous)}"
            f" AND {' AND '.join(f'{k} IS NOT NULL' for k in keys)})"
        )
        params = p2.values
    else:
        prev_keys, params = PREV, {}
    n_prev, n_deleted = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE r._is_deleted)
            FROM {prev_keys} k LEFT JOIN {raw} r ON {join}""",
        params,
    ).fetchall()[0]
    return SnapshotChange(latest, previous, int(n_prev), int(n_deleted))


def _write_bookkeeping(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    result: TableResult,
    rejected: list[tuple[LandingFile, str, FileRejectedError]],
    drift: list[dict[str, object]],
    run_id: str,
    loaded_at: dt.datetime,
) -> None:
    log = pl.DataFrame(
        [
            {
                "run_id": run_id,
                "source": f.source,
                "table": f.table,
                "file": f.file,
                "sha256": f.sha256,
                "extract_id": f.extract_id,
                "rows_read": f.rows_read,
                "rows_loaded": f.rows_loaded,
                "rows_quarantined": f.rows_quarantined,
                "loaded_at": loaded_at,
                "status": f.status,
                "rows_superseded": f.rows_superseded,
            }
            for f in result.files
        ]
    )
    _insert_frame(con, "audit.load_log", log)
    if rejected:
        files = pl.DataFrame(
            [
                {
                    "source": t.source,
                    "table": t.name,
                    "file": lf.rel,
                    "sha256": sha,
                    "extract_id": lf.extract_id,
                    "reason_code": rej.code,
                    "reason": rej.reason,
                    "rows_read": rej.rows_read,
                    "run_id": run_id,
                    "quarantined_at": loaded_at,
                }
                for lf, sha, rej in rejected
            ]
        )
        _insert_frame(con, "quarantine.files", files)
    if drift:
        df = pl.DataFrame(drift).with_columns(
            pl.lit(t.source).alias("source"),
            pl.lit(t.name).alias("table"),
            pl.lit("extra_column").alias("reason_code"),
            pl.lit(run_id).alias("run_id"),
            pl.lit(loaded_at).alias("detected_at"),
        )
        _insert_frame(con, "audit.schema_drift", df)
