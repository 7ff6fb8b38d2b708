"""Split an extract file into records, counted independently of the parse that loads them.

A CSV record is one line (the contract's values never contain line breaks). The file's lines are
counted from its bytes; each line is checked against RFC 4180 on its own, so an unbalanced quote
cannot swallow the lines after it, a row with too many or too few fields is set aside alone, and
the last line of a file that does not end with a line break is suspect (a cut-off `494.94` reads
as `49`). Only the lines that pass are handed to the CSV parser, whose row count must match.
So for every file: rows read (lines) = rows loaded + rows quarantined, whatever the parser does.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.ingest.landing import READABLE_FORMATS, LandingFile

#: One RFC 4180 line: fields separated by commas, each either quoted (inner quotes doubled)
#: or free of quotes and commas.
_FIELD = r'(?:"(?:[^"]|"")*"|[^",]*)'
_LINE = rf"^{_FIELD}(?:,{_FIELD})*$"
_QUOTED = r'"(?:[^"]|"")*"'


class FileRejectedError(Exception):
    """The whole file is set aside (unreadable, no header, missing required column)."""

    def __init__(self, code: str, reason: str, rows_read: int) -> None:
        super().__init__(reason)
        self.code, self.reason, self.rows_read = code, reason, rows_read


@dataclass(frozen=True)
class RecordReject:
    """A line that could not be split into the header's fields (quarantined before validation)."""

    row: int  # data row number = line number in the file minus the header line
    code: str  # malformed_record | truncated_record
    reason: str
    text: str


@dataclass
class Records:
    """The readable records of a file (text columns + `__row`), and the lines set aside."""

    frame: pl.DataFrame
    rows_read: int
    rejects: list[RecordReject] = field(default_factory=list)


def count_lines(data: bytes) -> int:
    """Non-blank data lines of a CSV file (the header excluded): the file's own record count."""
    if not data:
        return 0
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return sum(1 for line in lines[1:] if line.strip("\r") != "")


def countable_path_rows(path: Path) -> int:
    """Rows of a file we refuse whole, where countable (CSV lines; Parquet footer), else 0."""
    fmt = path.suffix.lower().lstrip(".")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if fmt == "csv" and path.is_file():
            return count_lines(path.read_bytes())
    except Exception:
        return 0
    return 0


def countable_rows(lf: LandingFile) -> int:
    return countable_path_rows(lf.path)


def read_records(lf: LandingFile) -> Records:
    """Records of an extract as text columns (empty field = NULL) with their data row number."""
    if lf.fmt not in READABLE_FORMATS:
        raise FileRejectedError(
            "unreadable_file",
            f"{lf.rel}: '.{lf.fmt}' is neither CSV nor Parquet; export the table as UTF-8 CSV "
            "or Parquet.",
            countable_rows(lf),
        )
    recs = _read_parquet(lf) if lf.fmt == "parquet" else _read_csv(lf)
    df = recs.frame
    df = df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns if c != "__row"})
    recs.frame = df.with_columns(pl.col(c).replace("", None) for c in df.columns if c != "__row")
    return recs


def _unreadable(lf: LandingFile, why: str, rows: int) -> FileRejectedError:
    kind = lf.fmt.upper()
    return FileRejectedError(
        "unreadable_file",
        f"{lf.rel}: the file cannot be read as {kind} ({why}); re-export it as UTF-8 {kind} "
        "with a header row.",
        rows,
    )


def _read_parquet(lf: LandingFile) -> Records:
    import pyarrow.parquet as pq

    try:
        expected = int(pq.ParquetFile(lf.path).metadata.num_rows)
        df = pl.read_parquet(lf.path).with_columns(pl.all().cast(pl.String))
    except Exception as exc:  # pyarrow/polars raise several types for corrupt input
        raise _unreadable(lf, str(exc).splitlines()[0][:160], 0) from exc
    if df.height != expected:
        raise _unreadable(lf, f"its footer promises {expected} rows, {df.height} were read", 0)
    rows = pl.int_range(1, df.height + 1, dtype=pl.Int64, eager=True).alias("__row")
    return Records(df.with_columns(rows), expected)


def _read_csv(lf: LandingFile) -> Records:
    data = lf.path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _unreadable(lf, f"not UTF-8 at byte {exc.start}", count_lines(data)) from exc
    had_bom = text.startswith("\ufeff")
    text = text.removeprefix("\ufeff")
    ends_clean = text.endswith("\n")
    lines = pl.Series("line", [text]).str.split("\n").explode()
    if ends_clean:
        lines = lines.head(lines.len() - 1)
    if lines.len() == 0 or lines[0].strip("\r") == "":
        raise FileRejectedError(
            "missing_column",
            f"{lf.rel}: the file has no header row; the whole file was set aside — re-export "
            f"{lf.table.qualified_name} with a header row of contract column names.",
            0,
        )
    lines = lines.str.strip_suffix("\r")
    header = lines[0]
    if not pl.Series([header]).str.contains(_LINE)[0]:
        raise _unreadable(lf, "the header row's quoting is broken", count_lines(data))
    names = next(csv.reader([header]))
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _unreadable(lf, f"column {', '.join(dupes)} appears twice in the header", 0)

    body = pl.DataFrame({"text": lines.slice(1)}).with_row_index("__row", offset=1)
    n_lines = body.height
    body = body.with_columns(pl.col("__row").cast(pl.Int64)).filter(pl.col("text") != "")
    n_fields = pl.col("text").str.replace_all(_QUOTED, "").str.count_matches(",", literal=True) + 1
    body = body.with_columns(
        valid=pl.col("text").str.contains(_LINE), n_fields=n_fields.cast(pl.Int64)
    )
    last_row = body["__row"].max() if body.height else None
    bad = body.filter(
        ~pl.col("valid")
        | (pl.col("n_fields") != len(names))
        | ((pl.col("__row") == (last_row or 0)) & pl.lit(not ends_clean))
    )
    cut = None if ends_clean else last_row
    rejects = [_describe(lf, r, len(names), r["__row"] == cut) for r in bad.iter_rows(named=True)]
    good = body.join(bad.select("__row"), on="__row", how="anti") if rejects else body
    if rejects or had_bom or good.height != n_lines:  # parse exactly the lines that passed
        source: bytes = "\n".join([header, *good["text"].to_list(), ""]).encode()
    else:  # every line passed: the file itself is what the parser reads
        source = data
    try:
        df = pl.read_csv(
            io.BytesIO(source), infer_schema=False, encoding="utf8", raise_if_empty=False
        )
    except Exception as exc:  # the lines passed the RFC check: this is a parser disagreement
        raise _unreadable(lf, str(exc).splitlines()[0][:160], body.height) from exc
    if df.height != good.height:
        raise _unreadable(
            lf, f"{good.height} well-formed lines parsed as {df.height} rows", body.height
        )
    return Records(df.with_columns(good["__row"]), body.height, rejects)


def _describe(lf: LandingFile, r: dict, n_header: int, cut: bool) -> RecordReject:
    row, text = r["__row"], r["text"]
    where = f"{lf.rel} row {row} (line {row + 1})"
    if cut:  # the likeliest cause of anything wrong with a last line that has no line break
        reason = (
            f"{where}: the file does not end with a line break, so its last row may have been "
            "cut off in transfer (e.g. 494.94 read as 49); re-send the complete file."
        )
        return RecordReject(row, "truncated_record", reason, text)
    if not r["valid"]:
        reason = (
            f"{where}: the quoting is broken — a quote opens and does not close on this line, or "
            "a quote sits inside an unquoted value; values must not contain line breaks. Fix the "
            "quoting and re-send (the lines after it were read on their own)."
        )
        return RecordReject(row, "malformed_record", reason, text)
    if r["n_fields"] != n_header:
        more = r["n_fields"] > n_header
        reason = f"{where}: {r['n_fields']} fields but the header has {n_header}; " + (
            "a comma inside a value must be quoted — quote it and re-send."
            if more
            else "a value is missing or the row was cut — re-send the complete row."
        )
        return RecordReject(row, "malformed_record", reason, text)
    raise AssertionError("unreachable: a line flagged without a reason")
