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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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


#: Bytes of a CSV file handled at a time (cut after a line break), and rows of a Parquet file:
#: the reader's memory is bounded by these, whatever the size of the file.
BATCH_BYTES = 16 << 20
BATCH_ROWS = 250_000


def _chunks(path: Path) -> Iterator[tuple[bytes, bool]]:
    """The file's bytes in pieces of about `BATCH_BYTES` that end with a line break (the last
    one may not), with whether it is the last. A line longer than that is never split."""
    with path.open("rb") as fh:
        buf = b""
        while True:
            more = fh.read(BATCH_BYTES)
            if not more:
                yield buf, True
                return
            buf += more
            cut = buf.rfind(b"\n")
            if cut >= 0:
                chunk, buf = buf[: cut + 1], buf[cut + 1 :]
                if buf or fh.peek(1):
                    yield chunk, False
                else:  # the file ends with this line break
                    yield chunk, True
                    return


def count_lines(data: bytes) -> int:
    """Non-blank data lines of a CSV file (the header excluded): the file's own record count."""
    if not data:
        return 0
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return sum(1 for line in lines[1:] if line.strip("\r") != "")


def count_path_lines(path: Path) -> int:
    """`count_lines` of a file, read a piece at a time (pieces end with a line break, so the
    count is the same; a piece never splits a UTF-8 character)."""
    total, first = 0, True
    for chunk, _last in _chunks(path):
        if first:
            total += count_lines(chunk)
            first = False
        else:
            total += count_lines(b"\n" + chunk)  # a dummy header line in front
    return total


def countable_path_rows(path: Path) -> int:
    """Rows of a file we refuse whole, where countable (CSV lines; Parquet footer), else 0."""
    fmt = path.suffix.lower().lstrip(".")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if fmt == "csv" and path.is_file():
            return count_path_lines(path)
    except Exception:
        return 0
    return 0


def countable_rows(lf: LandingFile) -> int:
    return countable_path_rows(lf.path)


class Records:
    """The records of an extract file, read in bounded batches.

    `columns` is the header (known on opening; a file refused whole raises `FileRejectedError`
    there or, for damage found further in, while iterating `batches()`). Each batch is a frame
    of text columns (empty field = NULL) with the data row number `__row`. After the batches:
    `rows_read` (the file's own count), `rejects` (lines set aside) and `retracted` (rows of an
    earlier batch set aside afterwards: the last line of a file without a final line break).
    """

    def __init__(self, lf: LandingFile) -> None:
        if lf.fmt not in READABLE_FORMATS:
            raise FileRejectedError(
                "unreadable_file",
                f"{lf.rel}: '.{lf.fmt}' is neither CSV nor Parquet; export the table as UTF-8 "
                "CSV or Parquet.",
                countable_rows(lf),
            )
        self.lf = lf
        self.rows_read = 0
        self.rejects: list[RecordReject] = []
        self.retracted: list[int] = []
        self._csv: _CsvReader | None = None
        if lf.fmt == "parquet":
            self._parquet_rows, names = _parquet_header(lf)
        else:
            self._csv = _CsvReader(lf)
            names = self._csv.names
        self.columns = [c.strip().lstrip("\ufeff") for c in names]

    def batches(self) -> Iterator[pl.DataFrame]:
        raw = self._csv.batches(self) if self._csv else self._parquet_batches()
        for df in raw:
            df = df.rename(dict(zip(df.columns[:-1], self.columns, strict=True)))
            yield df.with_columns(pl.col(c).replace("", None) for c in self.columns)

    def _parquet_batches(self) -> Iterator[pl.DataFrame]:
        lf, expected, read = self.lf, self._parquet_rows, 0
        try:
            scan = pl.scan_parquet(lf.path)
            while True:  # slices of the file (polars reads only the row groups they touch)
                df = scan.slice(read, BATCH_ROWS).collect().with_columns(pl.all().cast(pl.String))
                if df.height == 0:
                    break
                rows = pl.int_range(read + 1, read + df.height + 1, dtype=pl.Int64, eager=True)
                read += df.height
                yield df.with_columns(rows.alias("__row"))
                if df.height < BATCH_ROWS:
                    break
        except FileRejectedError:
            raise
        except Exception as exc:  # pyarrow/polars raise several types for corrupt input
            raise _unreadable(lf, str(exc).splitlines()[0][:160], 0) from exc
        if read != expected:
            raise _unreadable(lf, f"its footer promises {expected} rows, {read} were read", 0)
        self.rows_read = expected


def _parquet_header(lf: LandingFile) -> tuple[int, list[str]]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(lf.path)
        return int(meta.metadata.num_rows), list(meta.schema_arrow.names)
    except Exception as exc:
        raise _unreadable(lf, str(exc).splitlines()[0][:160], 0) from exc


def read_records(lf: LandingFile) -> Records:
    """The records of an extract (see `Records`); raises `FileRejectedError` on a bad header."""
    return Records(lf)


def read_rows(lf: LandingFile, rows: set[int], columns: list[str]) -> dict[int, dict]:
    """Some rows of a file again, by data row number, as the records reader yields them (header
    names, empty field = None): for the few rows set aside after their text was dropped."""
    out: dict[int, dict] = {}
    if lf.fmt == "parquet":
        df = (
            pl.scan_parquet(lf.path)
            .with_row_index("__row", offset=1)
            .filter(pl.col("__row").is_in(sorted(rows)))
            .collect()
        )
        for r in df.with_columns(pl.exclude("__row").cast(pl.String)).iter_rows():
            out[int(r[0])] = _record(columns, r[1:])
        return out
    row = 0  # lines after the header, blank ones included, exactly as `Records` numbers them
    first = True
    for chunk, _last in _chunks(lf.path):
        text = chunk.decode("utf-8").removeprefix("\ufeff") if first else chunk.decode("utf-8")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        if first:
            lines, first = lines[1:], False
        for line in lines:
            row += 1
            if row in rows:
                fields = next(csv.reader([line.removesuffix("\r")]))
                out[row] = _record(columns, fields)
        if len(out) == len(rows):
            break
    return out


def _record(columns: list[str], values: Sequence[str | None]) -> dict[str, str | None]:
    return {c: (v if v != "" else None) for c, v in zip(columns, values, strict=True)}


def _unreadable(lf: LandingFile, why: str, rows: int) -> FileRejectedError:
    kind = lf.fmt.upper()
    return FileRejectedError(
        "unreadable_file",
        f"{lf.rel}: the file cannot be read as {kind} ({why}); re-export it as UTF-8 {kind} "
        "with a header row.",
        rows,
    )


def _decode(lf: LandingFile, chunk: bytes, offset: int) -> str:
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = offset + exc.start
        raise _unreadable(lf, f"not UTF-8 at byte {where}", count_path_lines(lf.path)) from exc


class _CsvReader:
    """A CSV file a piece at a time: the header on opening, then the lines of each piece
    checked and parsed exactly as a whole file would be (line numbers run on across pieces)."""

    def __init__(self, lf: LandingFile) -> None:
        self.lf = lf
        self._pieces = _chunks(lf.path)
        first, self._first_is_last = next(self._pieces)
        self._offset = len(first)
        text = _decode(lf, first, 0)
        self.had_bom = text.startswith("\ufeff")
        text = text.removeprefix("\ufeff")
        head, sep, rest = text.partition("\n")
        if head.strip("\r") == "":
            raise FileRejectedError(
                "missing_column",
                f"{lf.rel}: the file has no header row; the whole file was set aside — "
                f"re-export {lf.table.qualified_name} with a header row of contract column names.",
                0,
            )
        self.header = head.removesuffix("\r")
        if not pl.Series([self.header]).str.contains(_LINE)[0]:
            raise _unreadable(lf, "the header row's quoting is broken", count_path_lines(lf.path))
        self.names = next(csv.reader([self.header]))
        dupes = sorted({n for n in self.names if self.names.count(n) > 1})
        if dupes:
            raise _unreadable(lf, f"column {', '.join(dupes)} appears twice in the header", 0)
        self._rest = rest
        self._rest_raw = first[len(first) - len(rest.encode()) :] if sep else b""

    def batches(self, recs: Records) -> Iterator[pl.DataFrame]:
        lf, n_names = self.lf, len(self.names)
        text, raw, last = self._rest, self._rest_raw, self._first_is_last
        next_row = 1
        last_line: tuple[int, str, bool] | None = None  # (row, text, rejected) of the last line
        while True:
            ends_clean = text.endswith("\n")
            if text:
                lines = pl.Series("text", [text]).str.split("\n").explode()
                if ends_clean:
                    lines = lines.head(lines.len() - 1)
                body = (
                    pl.DataFrame({"text": lines.str.strip_suffix("\r")})
                    .with_row_index("__row", offset=next_row)
                    .with_columns(pl.col("__row").cast(pl.Int64))
                )
                next_row += body.height
                n_lines = body.height
                body = body.filter(pl.col("text") != "")
                # every line passed and none is blank: the parser may read the piece itself
                whole = raw if not self.had_bom and body.height == n_lines else None
                df, bad = self._parse(body, whole, n_names)
                recs.rows_read += body.height
                recs.rejects += [_describe(lf, r, n_names, False) for r in bad]
                if body.height:
                    row, line = body.row(body.height - 1)
                    last_line = (row, line, any(r["__row"] == row for r in bad))
                if df is not None and df.height:
                    yield df
            if last:
                if not ends_clean and last_line is not None:
                    self._cut(recs, *last_line)
                return
            piece, last = next(self._pieces)
            text, raw = _decode(lf, piece, self._offset), piece
            self._offset += len(piece)

    def _parse(
        self, body: pl.DataFrame, raw: bytes | None, n_names: int
    ) -> tuple[pl.DataFrame | None, list[dict]]:
        """Check each line on its own, then parse exactly the lines that passed (`raw`: the
        piece's bytes, when every line of it is in `body`)."""
        if body.height == 0:
            return None, []
        # a line without a quote is well-formed by construction and its fields are its commas
        # plus one: only the lines with quotes need the RFC 4180 expression
        commas = pl.col("text").str.count_matches(",", literal=True)
        quoted = pl.col("text").str.contains('"', literal=True)
        plain = body.filter(~quoted).with_columns(
            valid=pl.lit(True), n_fields=(commas + 1).cast(pl.Int64)
        )
        fields = pl.col("text").str.replace_all(_QUOTED, "").str.count_matches(",", literal=True)
        with_quotes = body.filter(quoted).with_columns(
            valid=pl.col("text").str.contains(_LINE), n_fields=(fields + 1).cast(pl.Int64)
        )
        bad = (
            pl.concat([plain, with_quotes])
            .filter(~pl.col("valid") | (pl.col("n_fields") != n_names))
            .sort("__row")
        )
        good = body.join(bad.select("__row"), on="__row", how="anti") if bad.height else body
        if good.height == 0:
            return None, list(bad.iter_rows(named=True))
        if bad.height or raw is None:  # parse exactly the lines that passed
            lines = good["text"].str.join("\n").item()
            source = f"{self.header}\n{lines}\n".encode()
        else:
            source = self.header.encode() + b"\n" + raw
        try:
            df = pl.read_csv(
                io.BytesIO(source), infer_schema=False, encoding="utf8", raise_if_empty=False
            )
        except Exception as exc:  # the lines passed the RFC check: this is a parser disagreement
            rows = count_path_lines(self.lf.path)
            raise _unreadable(self.lf, str(exc).splitlines()[0][:160], rows) from exc
        if df.height != good.height:
            raise _unreadable(
                self.lf,
                f"{good.height} well-formed lines parsed as {df.height} rows",
                count_path_lines(self.lf.path),
            )
        return df.with_columns(good["__row"]), list(bad.iter_rows(named=True))

    def _cut(self, recs: Records, row: int, line: str, rejected: bool) -> None:
        """The file does not end with a line break: its last line is set aside as cut off
        (replacing a malformed verdict; retracted from the batches if it was yielded)."""
        if rejected:
            recs.rejects = [r for r in recs.rejects if r.row != row]
        else:
            recs.retracted.append(row)
        recs.rejects.append(_describe(self.lf, {"__row": row, "text": line}, 0, True))


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
