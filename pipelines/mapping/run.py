"""`subops map`: turn one system's export files into contract-shaped landing files, set-based in
DuckDB (no per-row Python).

Per extract and contract table the export files are read as text, joined, filtered and converted
column by column in one SQL pass. Rows that convert go to `<landing>/<source>/<table>/<id>.csv`,
which the loader reads like any extract. Rows the mapping cannot place (a value its value map
does not know, a date not in its format, a column the export lacks) go to
`<landing>/_mapping/<name>/quarantine/<id>.csv` in the shape of `quarantine.rows`, with a reason
naming the source file, row and column; the build copies them into the warehouse's quarantine.
Lineage back to the export (source file and row for every landing row) is written beside them:
`<landing>/_mapping/<name>/lineage/<source>/<table>/<id>.csv`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.contract import ColumnType, Table, table
from pipelines.contract.model import CODE_PATTERNS
from pipelines.ingest.landing import MAPPING_FOLDER, parse_extract_id
from pipelines.mapping.expressions import (
    ExpressionError,
    check_name,
    parse_expression,
    quote,
    safe_expression,
)
from pipelines.mapping.expressions import resolve as resolve_refs
from pipelines.mapping.model import (
    CURRENCY_EXPONENTS,
    ColumnMap,
    Mapping,
    MappingError,
    TableMap,
)

T = ColumnType
#: The folder under a landing folder that `subops map` writes its bookkeeping to (the landing
#: scan leaves it alone; the build reads its quarantine files).
MAPPING_DIR = MAPPING_FOLDER
#: Columns of a mapping quarantine file: quarantine.rows without run_id / quarantined_at.
QUARANTINE_COLUMNS = (
    "source",
    "table",
    "file",
    "row_number",
    "column",
    "reason_code",
    "reason",
    "raw_record",
    "extract_id",
)
_BOOL_TRUE = ("true", "t", "1", "yes", "y")
_BOOL_FALSE = ("false", "f", "0", "no", "n")
_HAS_OFFSET = r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


@dataclass
class TableRun:
    """What one contract table got from one extract's export files."""

    table: str
    extract_id: str
    source_file: str
    rows_read: int = 0
    rows_skipped: int = 0  # outside the table's `where`
    rows_written: int = 0
    rows_quarantined: int = 0
    output: Path | None = None


@dataclass
class MapResult:
    mapping: str
    tables: list[TableRun] = field(default_factory=list)
    quarantine_files: list[Path] = field(default_factory=list)

    @property
    def rows_written(self) -> int:
        return sum(t.rows_written for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)


def find_extracts(from_dir: Path, extract_id: str | None) -> list[tuple[str, Path]]:
    """The extracts of an export folder: its sub-folders named by extract id (YYYY-MM-DD or
    YYYY-MM-DDTHHMMSSZ, in order), else the folder itself as one extract."""
    if not from_dir.is_dir():
        raise MappingError(f"--from {from_dir}: no such folder")
    subs = sorted(
        p for p in from_dir.iterdir() if p.is_dir() and parse_extract_id(p.name) is not None
    )
    if subs:
        if extract_id:
            subs = [p for p in subs if p.name == extract_id]
        return [(p.name, p) for p in subs]
    ext = extract_id or dt.datetime.now(dt.UTC).date().isoformat()
    if parse_extract_id(ext) is None:
        raise MappingError(f"--extract-id {ext!r}: write YYYY-MM-DD or YYYY-MM-DDTHHMMSSZ")
    return [(ext, from_dir)]


def _export_file(folder: Path, name: str) -> Path | None:
    for ext in ("csv", "parquet"):
        p = folder / f"{name}.{ext}"
        if p.is_file():
            return p
    return None


def _ref(name: str) -> tuple[str, ...]:
    """`file.column` or `column` as a reference."""
    return tuple(name.split(".", 1)) if "." in name else (name,)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Plan:
    """The SQL of one contract table over one extract's export files."""

    def __init__(
        self, m: Mapping, qname: str, tm: TableMap, headers: dict[str, list[str]], src_label: str
    ) -> None:
        self.m, self.qname, self.tm, self.headers = m, qname, tm, headers
        self.t: Table = table(qname)
        self.src_label = src_label  # the main export file as named in reasons
        self.main = tm.file

    def _name(self, name: str) -> list[tuple[str, ...]]:
        """A `column:` name: a header column as written (it may hold dots or spaces), else
        `file.column`."""
        if any(name.lower() in (c.lower() for c in cols) for cols in self.headers.values()):
            return [(name,)]
        return [_ref(name)]

    def _where(self, col: str) -> str:
        return f"mappings/{self.m.name}.yml: {self.qname}.{col}"

    def _refs(self, sql: str, where: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return resolve_refs(parse_expression(sql, where), self.headers, self.main, where)

    def condition(self, sql: str, where: str) -> str:
        _, missing = self._refs(sql, where)
        if missing:
            f, c = missing[0]
            raise MappingError(
                f"{where}: export file {f} has no column {c!r} (its columns: "
                f"{', '.join(self.headers[f][:30])}); fix the mapping or the export"
            )
        return f"({safe_expression(sql, where)})"

    def from_clause(self) -> str:
        parts = [f"{quote('__x_' + self.main)} AS {quote(self.main)}"]
        for j in self.tm.join:
            on = self.condition(j.on, f"mappings/{self.m.name}.yml: {self.qname} join {j.file}")
            kw = "LEFT JOIN" if j.how == "left" else "JOIN"
            parts.append(f"{kw} {quote('__x_' + j.file)} AS {quote(j.file)} ON {on}")
        return " ".join(parts)

    def column_sql(self, cname: str, cm: ColumnMap) -> tuple[str, str, str, str, str | None]:
        """(output text SQL, fault code SQL, source value SQL, the source column(s) it reads,
        the reason when the export lacks a column it reads)."""
        col = self.t.column(cname)
        where = self._where(cname)
        missing: list[tuple[str, str]] = []
        if cm.column is not None:
            found, missing = resolve_refs(self._name(cm.column), self.headers, self.main, where)
            raw = f"{quote(found[0][0])}.{quote(found[0][1])}" if found else "NULL"
            label = ".".join(found[0] if found else missing[0])
        elif cm.expr is not None:
            found, missing = self._refs(cm.expr, where)
            raw = "NULL" if missing else f"({safe_expression(cm.expr, where)})"
            names = found or missing
            label = "+".join(dict.fromkeys(c for _, c in names)) or cname
        else:
            raw = _sql_text(cm.const or "")
            label = f"(constant for {cname})"
        cur = None
        if cm.minor_units:
            found_c, miss_c = resolve_refs(
                self._name(cm.minor_units), self.headers, self.main, where
            )
            missing += miss_c
            if found_c:
                cur = f"upper(trim(CAST({quote(found_c[0][0])}.{quote(found_c[0][1])} AS VARCHAR)))"
        if missing:
            f, c = missing[0]
            reason = (
                f"the export file {f} has no column {c!r} (maps to {self.qname}.{cname}); "
                f"add it to the export or change mappings/{self.m.name}.yml"
            )
            return "NULL", "'missing_column'", "NULL", c, reason
        v0 = f"nullif(trim(CAST({raw} AS VARCHAR)), '')"
        bad_map = "false"
        v1 = v0
        if cm.values is not None:
            keys = list(cm.values)
            whens = " ".join(
                f"WHEN {_sql_text(k)} THEN {'NULL' if v is None else _sql_text(v)}"
                for k, v in cm.values.items()
            )
            v1 = f"(CASE {v0} {whens} END)"
            bad_map = f"({v0} IS NOT NULL AND {v0} NOT IN ({', '.join(map(_sql_text, keys))}))"
        typed, out = self._convert(col.type, cm, v1, cur)
        bad_type = f"({v1} IS NOT NULL AND {typed} IS NULL)" if typed else "false"
        fault = f"CASE WHEN {bad_map} THEN 'bad_enum' WHEN {bad_type} THEN 'bad_type' END"
        return out, fault, v0, label, None

    def _convert(
        self, ctype: ColumnType, cm: ColumnMap, v: str, cur: str | None
    ) -> tuple[str | None, str]:
        """(typed value or None when no parsing is involved, output text) SQL."""
        if ctype in (T.DATE, T.TIMESTAMP):
            ts = self._timestamp(cm, v)
            if ctype is T.DATE:
                if not cm.format and not cm.timezone:
                    ts = f"coalesce(try_strptime({v}, '%Y-%m-%d'), try_cast({v} AS TIMESTAMP))"
                d = f"CAST({ts} AS DATE)"
                return d, f"strftime({d}, '%Y-%m-%d')"
            out = (
                f"CASE WHEN microsecond({ts}) % 1000000 = 0 "
                f"THEN strftime({ts}, '%Y-%m-%dT%H:%M:%SZ') "
                f"ELSE strftime({ts}, '%Y-%m-%dT%H:%M:%S.%fZ') END"
            )
            return ts, out
        if ctype in (T.DECIMAL, T.INT):
            s = v
            if cm.thousands_separator:
                s = f"replace({s}, {_sql_text(cm.thousands_separator)}, '')"
            if cm.decimal_separator == ",":
                s = f"replace({s}, ',', '.')"
            x = f"try_cast({s} AS DECIMAL(38,10))"
            if cur is not None:
                zero = ", ".join(_sql_text(c) for c, e in CURRENCY_EXPONENTS.items() if e == 0)
                three = ", ".join(_sql_text(c) for c, e in CURRENCY_EXPONENTS.items() if e == 3)
                factor = (
                    f"CASE WHEN {cur} IN ({zero}) THEN CAST(1 AS DECIMAL(4,3)) "
                    f"WHEN {cur} IN ({three}) THEN CAST(0.001 AS DECIMAL(4,3)) "
                    "ELSE CAST(0.01 AS DECIMAL(4,3)) END"
                )
                x = f"CAST({x} * {factor} AS DECIMAL(38,10))"
            if cm.divide_by is not None:
                q = f"CAST({x} / {cm.divide_by} AS DECIMAL(38,10))"
                x = f"CAST(round({q}, 4) AS DECIMAL(38,10))"
            if ctype is T.INT:
                i = f"(CASE WHEN {x} = round({x}) THEN CAST({x} AS BIGINT) END)"
                return i, f"CAST({i} AS VARCHAR)"
            dec = f"CAST({x} AS DECIMAL(38,4))"
            return dec, f"CAST({dec} AS VARCHAR)"
        if ctype is T.BOOL:
            b = (
                f"(CASE WHEN lower({v}) IN {_BOOL_TRUE} THEN 'true' "
                f"WHEN lower({v}) IN {_BOOL_FALSE} THEN 'false' END)"
            )
            return b, b
        if ctype in CODE_PATTERNS:
            return None, f"upper({v})"
        return None, v

    def _timestamp(self, cm: ColumnMap, v: str) -> str:
        """Naive UTC TIMESTAMP SQL of a date/time text (NULL when it does not parse)."""
        tz = _sql_text(cm.timezone or "UTC")
        if cm.format in ("epoch", "epoch_ms"):
            n = f"try_cast({v} AS BIGINT)"
            aware = (
                f"to_timestamp({n} / 1000.0)" if cm.format == "epoch_ms" else f"to_timestamp({n})"
            )
            return f"timezone('UTC', {aware})"
        if cm.format:
            f = _sql_text(cm.format)
            if "%z" in cm.format or "%Z" in cm.format:
                return f"timezone('UTC', CAST(try_strptime({v}, {f}) AS TIMESTAMPTZ))"
            return f"timezone('UTC', timezone({tz}, CAST(try_strptime({v}, {f}) AS TIMESTAMP)))"
        return (
            f"(CASE WHEN regexp_matches({v}, '{_HAS_OFFSET}') "
            f"THEN timezone('UTC', try_cast({v} AS TIMESTAMPTZ)) "
            f"ELSE timezone('UTC', timezone({tz}, try_cast({v} AS TIMESTAMP))) END)"
        )


def _read_exports(
    con: duckdb.DuckDBPyConnection, folder: Path, names: list[str]
) -> dict[str, tuple[Path, list[str]]]:
    """Load each export file present as an all-text temp table `__x_<name>` (rowid = row - 1)."""
    got: dict[str, tuple[Path, list[str]]] = {}
    for name in names:
        path = _export_file(folder, name)
        if path is None:
            continue
        tname = quote("__x_" + name)
        if path.suffix == ".csv":
            src = f"read_csv({_sql_text(str(path))}, all_varchar = true, header = true)"
        else:
            src = f"read_parquet({_sql_text(str(path))})"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {tname} AS SELECT * FROM {src}")
        cols = [r[0] for r in con.execute(f"DESCRIBE {tname}").fetchall()]
        if path.suffix != ".csv":  # parquet: every column as text, like a CSV
            casts = ", ".join(f"CAST({quote(c)} AS VARCHAR) AS {quote(c)}" for c in cols)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {tname} AS SELECT {casts} FROM {tname}")
        got[name] = (path, cols)
    return got


def map_exports(
    m: Mapping,
    from_dir: Path,
    landing: Path,
    *,
    extract_id: str | None = None,
    fmt: str = "csv",
) -> MapResult:
    """Map every extract of an export folder into the landing folder (see the module doc)."""
    from_dir, landing = Path(from_dir), Path(landing)
    extracts = find_extracts(from_dir, extract_id)
    if not extracts:
        raise MappingError(f"--from {from_dir}: no extract folder named {extract_id!r}")
    for tm in m.tables.values():
        for f in tm.files():
            check_name(f, f"mappings/{m.name}.yml: export file")
    result = MapResult(m.name)
    book = landing / MAPPING_DIR / m.name
    with contextlib.closing(duckdb.connect()) as con:
        con.execute("SET TimeZone = 'UTC'")
        for ext, folder in extracts:
            exports = _read_exports(con, folder, m.export_files())
            qrows: list[str] = []
            for qname, tm in m.tables.items():
                if tm.file not in exports:
                    continue  # a table may skip an extract
                run = _map_table(con, m, qname, tm, exports, from_dir, ext, landing, book, fmt)
                result.tables.append(run)
                if run.rows_quarantined:
                    qrows.append("__q")
                    con.execute("INSERT INTO __q_all SELECT * FROM __q")
            qfile = book / "quarantine" / f"{ext}.csv"
            if qfile.exists():
                qfile.unlink()
            if qrows:
                qfile.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f'COPY (SELECT * FROM __q_all ORDER BY "table", file, row_number) '
                    f"TO {_sql_text(str(qfile))} (HEADER, DELIMITER ',')"
                )
                result.quarantine_files.append(qfile)
            con.execute("DROP TABLE IF EXISTS __q_all")
    return result


def _map_table(
    con: duckdb.DuckDBPyConnection,
    m: Mapping,
    qname: str,
    tm: TableMap,
    exports: dict[str, tuple[Path, list[str]]],
    from_dir: Path,
    ext: str,
    landing: Path,
    book: Path,
    fmt: str,
) -> TableRun:
    t = table(qname)
    path = exports[tm.file][0]
    src_label = f"{from_dir.name}/{path.relative_to(from_dir).as_posix()}"
    headers = {f: exports[f][1] for f in tm.files() if f in exports}
    for j in tm.join:
        if j.file not in exports:
            raise MappingError(
                f"mappings/{m.name}.yml: {qname} joins {j.file}, but {path.parent} has no "
                f"{j.file}.csv or {j.file}.parquet; export it too"
            )
    plan = _Plan(m, qname, tm, headers, src_label)
    main = quote(tm.file)
    outs, faults, values, labels = [], [], [], []
    try:
        for cname, cm in tm.columns.items():
            o, f, v, label, why = plan.column_sql(cname, cm)
            outs.append(f"{o} AS {quote(cname)}")
            faults.append(f)
            values.append(v)
            labels.append((cname, label, why))
        from_sql = plan.from_clause()
        where = plan.condition(tm.where, plan._where("where")) if tm.where else "true"
    except ExpressionError as exc:
        raise MappingError(str(exc)) from None
    fault_cols = ", ".join(f"{f} AS __f{i}" for i, f in enumerate(faults))
    value_cols = ", ".join(f"{v} AS __v{i}" for i, v in enumerate(values))
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE __mapped AS
                SELECT {main}.rowid + 1 AS __row, to_json({main}) AS __record,
                       {", ".join(outs)}, {fault_cols}, {value_cols}
                FROM {from_sql} WHERE {where}"""
        )
    except duckdb.Error as exc:
        cause = str(exc).splitlines()[0]
        raise MappingError(
            f"mappings/{m.name}.yml: {qname} from {src_label}: an expression failed ({cause}); "
            "use try_ functions (try_strptime, TRY_CAST) so one bad value cannot stop the map"
        ) from None
    n_faults = len(faults)
    any_fault = " OR ".join(f"__f{i} IS NOT NULL" for i in range(n_faults))
    rows_read = con.execute(f"SELECT count(*) FROM {quote('__x_' + tm.file)}").fetchall()[0][0]
    kept = con.execute("SELECT count(DISTINCT __row) FROM __mapped").fetchall()[0][0]
    run = TableRun(qname, ext, src_label, rows_read=rows_read, rows_skipped=rows_read - kept)
    # quarantine: one row per export row that cannot be placed, naming its first faulty column
    # (a column the export lacks first: it is what fails every row)
    order = sorted(range(n_faults), key=lambda i: labels[i][2] is None)
    code = "coalesce(" + ", ".join(f"__f{i}" for i in order) + ")"
    whats, first_col = [], []
    fix = f"mappings/{m.name}.yml"
    for i in order:
        cname, label, why = labels[i]
        ctype = t.column(cname).type.value
        target = f"{qname}.{cname}"
        how = f"fix it or the format in {fix}"
        whats.append(
            f"CASE __f{i} WHEN 'missing_column' THEN {_sql_text(why or '')} "
            f"WHEN 'bad_enum' THEN 'value ' || ('''' || __v{i} || '''') || "
            f"{_sql_text(f' is not in the value map of {target}; add it to {fix}')} "
            f"WHEN 'bad_type' THEN ('''' || __v{i} || '''') || "
            f"{_sql_text(f' cannot be read as {ctype} for {target}; ' + how)}"
            " END"
        )
        first_col.append(f"WHEN __f{i} IS NOT NULL THEN {_sql_text(label)}")
    column = "CASE " + " ".join(first_col) + " END"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __q AS
            SELECT {_sql_text(t.source)} AS source, {_sql_text(t.name)} AS "table",
                   {_sql_text(src_label)} AS file, __row AS row_number, {column} AS "column",
                   {code} AS reason_code,
                   {_sql_text(src_label)} || ' row ' || __row || ' column ' || {column} || ': '
                       || coalesce({", ".join(whats)}) AS reason,
                   CAST(__record AS VARCHAR) AS raw_record, {_sql_text(ext)} AS extract_id
            FROM __mapped WHERE {any_fault}"""
    )
    con.execute("CREATE TEMP TABLE IF NOT EXISTS __q_all AS SELECT * FROM __q WHERE false")
    run.rows_quarantined = con.execute("SELECT count(*) FROM __q").fetchall()[0][0]
    out_dir = landing / t.source / t.name
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{ext}.*"):
        old.unlink()
    out = out_dir / f"{ext}.{fmt}"
    cols = ", ".join(quote(c) for c in t.column_names if c in tm.columns)
    opts = "(HEADER, DELIMITER ',')" if fmt == "csv" else "(FORMAT parquet)"
    ok = f"FROM __mapped WHERE NOT ({any_fault})"
    con.execute(f"COPY (SELECT {cols} {ok} ORDER BY __row) TO {_sql_text(str(out))} {opts}")
    run.output = out
    run.rows_written = con.execute(f"SELECT count(*) {ok}").fetchall()[0][0]
    lineage = book / "lineage" / t.source / t.name / f"{ext}.csv"
    lineage.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"""COPY (SELECT row_number() OVER (ORDER BY __row) AS row_number,
                         {_sql_text(src_label)} AS source_file, __row AS source_row
                  {ok} ORDER BY __row) TO {_sql_text(str(lineage))} (HEADER, DELIMITER ',')"""
    )
    return run


def clear_output(landing: Path, name: str) -> None:
    """Forget a mapping's bookkeeping under a landing folder (its extracts stay)."""
    shutil.rmtree(Path(landing) / MAPPING_DIR / name, ignore_errors=True)


def check_against_headers(m: Mapping, headers: dict[str, list[str]]) -> list[str]:
    """Every column the mapping reads that the given export headers ({file: columns}) lack,
    as `file.column (for table.column)`; an export file with no header given is reported whole.
    Used by `subops map --check --from` and by the test against Fivetran's Stripe schema."""
    problems: list[str] = []
    for qname, tm in m.tables.items():
        absent = [f for f in tm.files() if f not in headers]
        problems += [f"{f} (no such export file, read for {qname})" for f in absent]
        if absent:
            continue
        plan = _Plan(m, qname, tm, {f: headers[f] for f in tm.files()}, tm.file)
        for cname, cm in tm.columns.items():
            try:
                *_, why = plan.column_sql(cname, cm)
            except ExpressionError as exc:
                problems.append(str(exc))
                continue
            if why:
                _, missing = _missing_refs(plan, cm)
                problems += [f"{f}.{c} (for {qname}.{cname})" for f, c in missing]
        conditions = [(j.on, f"join {j.file}") for j in tm.join]
        conditions += [(tm.where, "where")] if tm.where else []
        for sql, what in conditions:
            try:
                _, missing = plan._refs(sql, f"{qname} {what}")
            except ExpressionError as exc:
                problems.append(str(exc))
                continue
            problems += [f"{f}.{c} (for {qname} {what})" for f, c in missing]
    return problems


def _missing_refs(plan: _Plan, cm: ColumnMap) -> tuple[list, list[tuple[str, str]]]:
    refs: list[tuple[str, ...]] = []
    if cm.column is not None:
        refs += plan._name(cm.column)
    if cm.expr is not None:
        refs += parse_expression(cm.expr, "check")
    if cm.minor_units:
        refs += plan._name(cm.minor_units)
    return resolve_refs(refs, plan.headers, plan.main, "check")


def export_headers(folder: Path, names: list[str]) -> dict[str, list[str]]:
    """The header of each export file present in a folder (first extract sub-folder if any)."""
    extracts = find_extracts(folder, None)
    with contextlib.closing(duckdb.connect()) as con:
        return {n: cols for n, (_, cols) in _read_exports(con, extracts[0][1], names).items()}
