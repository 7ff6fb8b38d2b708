"""Load a table's new extract files into `raw.<source>__<table>`, following its load mode.

All new files of a table are read (polars, every column as text), validated and typed in one
bulk SQL pass, merged into raw and logged in one transaction: a retry after a crash starts
from a consistent state, and a file already in `audit.load_log` (same path and sha256) is
skipped, so loading an extract twice changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines.contract import LoadMode, Table
from pipelines.contract.model import LINEAGE_COLUMNS
from pipelines.ingest.landing import READABLE_FORMATS, LandingFile
from pipelines.ingest.sql import Params, ident, raw_table_ref
from pipelines.ingest.validate import describe, failures_sql, typed_expr

SRC = "__ingest_src"
BAD = "__ingest_bad"
NEW = "__ingest_new"


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


@dataclass
class TableResult:
    table: str
    files: list[FileResult] = field(default_factory=list)
    skipped: int = 0  # files already loaded (same path and sha256)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


class FileRejectedError(Exception):
    def __init__(self, code: str, reason: str, rows_read: int) -> None:
        super().__init__(reason)
        self.code, self.reason, self.rows_read = code, reason, rows_read


def _count_csv_rows(lf: LandingFile) -> int:
    """Data rows of a file we could not parse, where countable (lines minus the header)."""
    try:
        data = lf.path.read_bytes()
    except OSError:
        return 0
    lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    return max(lines - 1, 0)


def read_extract(lf: LandingFile) -> pl.DataFrame:
    """Read a file as text columns, empty field = NULL; raise FileRejectedError if unreadable."""
    if lf.fmt not in READABLE_FORMATS:
        raise FileRejectedError(
            "unreadable_file",
            f"{lf.rel}: '.{lf.fmt}' is neither CSV nor Parquet; export the table as UTF-8 CSV "
            "or Parquet.",
            _count_csv_rows(lf),
        )
    try:
        if lf.fmt == "csv":
            df = pl.read_csv(lf.path, infer_schema=False, encoding="utf8", raise_if_empty=False)
        else:
            df = pl.read_parquet(lf.path)
            df = df.with_columns(pl.all().cast(pl.String))
    except Exception as exc:  # polars raises several types for corrupt input
        rows = _count_csv_rows(lf) if lf.fmt == "csv" else 0
        raise FileRejectedError(
            "unreadable_file",
            f"{lf.rel}: the file cannot be read as {lf.fmt.upper()} "
            f"({str(exc).splitlines()[0][:160]}); re-export it as UTF-8 {lf.fmt.upper()} with "
            "a header row.",
            rows,
        ) from exc
    df = df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns})
    return df.with_columns(pl.col(c).replace("", None) for c in df.columns)


def _normalise(lf: LandingFile, df: pl.DataFrame) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Contract columns (missing optional ones as NULL) + lineage; extras folded into JSON."""
    t = lf.table
    missing = [c for c in t.required_columns if c not in df.columns]
    if missing:
        raise FileRejectedError(
            "missing_column",
            f"{lf.rel}: required column(s) {', '.join(missing)} missing from the header; the "
            f"whole file was set aside — re-export {t.qualified_name} with every contract column.",
            df.height,
        )
    extras = tuple(c for c in df.columns if c not in t.column_names)
    extra_expr = (
        pl.struct([pl.col(c) for c in extras]).struct.json_encode()
        if extras
        else pl.lit(None, dtype=pl.String)
    )
    cols = [
        pl.col(c) if c in df.columns else pl.lit(None, dtype=pl.String).alias(c)
        for c in t.column_names
    ]
    out = df.select(
        *cols,
        pl.lit(lf.rel).alias("__file"),
        pl.lit(lf.extract_id).alias("__extract_id"),
        pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("__row"),
        extra_expr.alias("__extra"),
    )
    return out, extras


def _already_loaded(con: duckdb.DuckDBPyConnection, t: Table) -> set[tuple[str, str]]:
    rows = con.execute(
        'SELECT file, sha256 FROM audit.load_log WHERE source = $s AND "table" = $t',
        {"s": t.source, "t": t.name},
    ).fetchall()
    return {(r[0], r[1]) for r in rows}


def load_table(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    files: Iterable[LandingFile],
    run_id: str,
    loaded_at: dt.datetime | None = None,
) -> TableResult:
    """Load the files of `t` not yet in audit.load_log; one transaction for the whole table."""
    loaded_at = loaded_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    result = TableResult(t.qualified_name)
    done = _already_loaded(con, t)
    frames: list[pl.DataFrame] = []
    originals: dict[str, pl.DataFrame] = {}
    pending: list[tuple[LandingFile, str]] = []
    rejected: list[tuple[LandingFile, str, FileRejectedError]] = []
    drift: list[dict[str, object]] = []
    for lf in files:
        sha = lf.sha256()
        if (lf.rel, sha) in done:
            result.skipped += 1
            continue
        try:
            df = read_extract(lf)
            norm, extras = _normalise(lf, df)
        except FileRejectedError as rej:
            rejected.append((lf, sha, rej))
            continue
        originals[lf.rel] = df
        frames.append(norm)
        pending.append((lf, sha))
        drift += [{"file": lf.rel, "extract_id": lf.extract_id, "column": c} for c in extras]
        result.files.append(
            FileResult(
                lf.rel,
                t.source,
                t.name,
                lf.extract_id,
                sha,
                df.height,
                0,
                0,
                "",
                extra_columns=extras,
            )
        )
    if not pending and not rejected:
        return result

    con.execute("BEGIN TRANSACTION")
    try:
        bad_rows = _load_frames(con, t, frames, originals, pending, run_id, loaded_at)
        by_file = {f.file: f for f in result.files}
        for (file, _row), (code, _) in bad_rows.items():
            by_file[file].rows_quarantined += 1
            by_file[file].reasons[code] += 1
        for f in result.files:
            f.rows_loaded = f.rows_read - f.rows_quarantined
            f.status = "loaded_with_rejects" if f.rows_quarantined else "loaded"
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
        for name in (SRC, BAD):
            with contextlib.suppress(Exception):
                con.unregister(name)
        con.execute(f"DROP TABLE IF EXISTS {NEW}")
    result.files.sort(key=lambda f: (f.extract_id, f.file))
    return result


def _load_frames(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    frames: list[pl.DataFrame],
    originals: dict[str, pl.DataFrame],
    pending: list[tuple[LandingFile, str]],
    run_id: str,
    loaded_at: dt.datetime,
) -> dict[tuple[str, int], tuple[str, str]]:
    """Validate, quarantine and merge; returns {(file, row): (reason_code, column)}."""
    if not frames:
        return {}
    src = pl.concat(frames, how="vertical")
    con.register(SRC, src)
    p = Params()
    fails = con.execute(failures_sql(t, SRC, p), p.values).fetchall()

    bad: dict[tuple[str, int], tuple[str, str]] = {}
    qrows: list[dict[str, object]] = []
    extract_of = {lf.rel: lf.extract_id for lf, _ in pending}
    for file, row, codes, is_dup, first_row in fails:
        problems = [(c.name, code) for c, code in zip(t.columns, codes, strict=True) if code]
        if not problems and is_dup:
            problems = [("+".join(t.key), "duplicate_key")]  # compound keys: a+b
        original = originals[file].row(row - 1, named=True)
        column, code = problems[0]
        value = (
            "+".join(str(original.get(k)) for k in t.key)
            if code == "duplicate_key"
            else original.get(column)
        )
        reason = describe(t, file, row, column, code, value, first_row)
        if len(problems) > 1:
            reason += " Also: " + "; ".join(f"{c} {k}" for c, k in problems[1:]) + "."
        bad[(file, row)] = (code, column)
        qrows.append(
            {
                "source": t.source,
                "table": t.name,
                "file": file,
                "row_number": row,
                "column": column,
                "reason_code": code,
                "reason": reason,
                "raw_record": json.dumps(original, ensure_ascii=False),
                "run_id": run_id,
                "extract_id": extract_of[file],
                "quarantined_at": loaded_at,
            }
        )
    if qrows:
        _insert_frame(con, "quarantine.rows", pl.DataFrame(qrows))
    bad_df = pl.DataFrame(
        {"file": [k[0] for k in bad], "row": [k[1] for k in bad]},
        schema={"file": pl.String, "row": pl.Int64},
    )
    con.register(BAD, bad_df)
    _merge(con, t, loaded_at, pending)
    return bad


def _insert_frame(con: duckdb.DuckDBPyConnection, target: str, df: pl.DataFrame) -> None:
    """Bulk insert of a small frame into a bookkeeping table (columns named as the target's)."""
    con.register("__ingest_insert", df)
    cols = ", ".join(f'"{c}"' for c in df.columns)  # names from this module, not from files
    con.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM __ingest_insert")
    con.unregister("__ingest_insert")


def _merge(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    loaded_at: dt.datetime,
    pending: list[tuple[LandingFile, str]],
) -> None:
    """Merge the valid rows into raw: one row per key, the winner by the table's load mode."""
    p = Params()
    raw = raw_table_ref(t.raw_table)
    typed = ", ".join(f"{typed_expr(c, p)} AS {ident(c.name)}" for c in t.columns)
    keys = ", ".join(ident(k) for k in t.key)
    order = "_extract_id DESC, _file DESC"
    if t.load_mode is LoadMode.APPEND and t.version:
        order = f"{ident(t.version)} DESC, {order}"
    con.execute(
        f"""CREATE TEMP TABLE {NEW} AS
            SELECT {typed}, __file AS _file, __extract_id AS _extract_id, __row AS _row_number,
                   CAST({p(loaded_at)} AS TIMESTAMP) AS _loaded_at, false AS _is_deleted,
                   __extra AS _extra
            FROM {SRC} s
            WHERE NOT EXISTS (SELECT 1 FROM {BAD} b WHERE b.file = s.__file AND b.row = s.__row)
            QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {order}) = 1""",
        p.values,
    )
    join = " AND ".join(f"n.{ident(k)} = r.{ident(k)}" for k in t.key)
    wins = "n._extract_id >= r._extract_id"
    if t.load_mode is LoadMode.APPEND and t.version:
        v = ident(t.version)
        wins = f"(n.{v} > r.{v} OR (n.{v} = r.{v} AND {wins}))"
    latest_before = con.execute(f"SELECT max(_extract_id) FROM {raw}").fetchall()[0][0]
    con.execute(
        f"DELETE FROM {raw} AS r WHERE EXISTS (SELECT 1 FROM {NEW} n WHERE {join} AND {wins})"
    )
    all_cols = [c.name for c in t.columns] + [n for n, _, _ in LINEAGE_COLUMNS]
    cols = ", ".join(ident(c) for c in all_cols)
    con.execute(
        f"INSERT INTO {raw} ({cols}) SELECT {cols} FROM {NEW} n "
        f"WHERE NOT EXISTS (SELECT 1 FROM {raw} r WHERE {join})"
    )
    if t.load_mode is LoadMode.SNAPSHOT:
        latest = max(lf.extract_id for lf, _ in pending)
        if latest_before is None or latest >= latest_before:
            _mark_deleted(con, t, next(lf.rel for lf, _ in pending if lf.extract_id == latest))


def _mark_deleted(con: duckdb.DuckDBPyConnection, t: Table, latest_file: str) -> None:
    """Snapshot: flag keys absent from the latest extract (rejected rows still count as present)."""
    p = Params()
    raw = raw_table_ref(t.raw_table)
    key_exprs = ", ".join(f"{typed_expr(t.column(k), p)} AS {ident(k)}" for k in t.key)
    join = " AND ".join(f"k.{ident(k)} = r.{ident(k)}" for k in t.key)
    con.execute(
        f"""UPDATE {raw} AS r SET _is_deleted = NOT EXISTS (
                SELECT 1 FROM (SELECT {key_exprs} FROM {SRC} WHERE __file = {p(latest_file)}) k
                WHERE {join})""",
        p.values,
    )


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
