"""`generate()`: simulate the company in account chunks and stream its rows into a landing folder
(one initial extract dated `end`, then `daily` incremental extracts), with injected bad rows and a
truth manifest beside the folder."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.contract import SOURCES, TABLES, LoadMode, Table, table
from pipelines.generate.common import EPOCH_ORD, b2s, d2s, dec, price_book, ts
from pipelines.generate.company import simulate_account
from pipelines.generate.corrupt import Corruptor
from pipelines.generate.params import Params
from pipelines.generate.procurement import fx_rows, procurement
from pipelines.generate.truth import cause_of_bad_row, write_planted_truth

CHUNK = 500
USAGE_COLS = table("billing.usage").column_names
BY_NAME = {t.qualified_name: t for t in TABLES}


@dataclass
class GenerateResult:
    row_counts: dict[str, int]
    files: list[Path]
    truth_dir: Path
    billing_exceptions: int = 0
    bad_rows: int = 0


@dataclass
class _File:
    path: Path
    columns: tuple[str, ...]
    rows: int = 0
    writer: object = None
    extra: str | None = None  # an extra (drift) column appended to every row


@dataclass
class Sink:
    """Open landing files, appended chunk by chunk; counts rows for 1-based row numbers."""

    root: Path
    fmt: str
    files: dict[tuple[str, str], _File] = field(default_factory=dict)
    extra_columns: dict[tuple[str, str], str] = field(default_factory=dict)

    def file(self, t: Table, extract: str) -> _File:
        k = (t.qualified_name, extract)
        f = self.files.get(k)
        if f is None:
            path = self.root / t.source / t.name / f"{extract}.{self.fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            f = _File(path, t.column_names, extra=self.extra_columns.get(k))
            cols = list(t.column_names) + ([f.extra] if f.extra else [])
            if self.fmt == "csv":
                # CSV files are reopened per write, so a long --daily run keeps few files open
                with open(path, "w", encoding="utf-8", newline="") as fh:
                    csv.writer(fh, lineterminator="\n").writerow(cols)
            else:
                schema = pa.schema([(c, pa.string()) for c in cols])
                f.writer = pq.ParquetWriter(path, schema)
            self.files[k] = f
        return f

    def write(self, t: Table, extract: str, rows: list[tuple]) -> int:
        """Append value tuples; returns the row number offset they were written at."""
        f = self.file(t, extract)
        off = f.rows
        if not rows:
            return off
        if f.extra:
            rows = [(*r, f"v{off + i + 1}") for i, r in enumerate(rows)]
        if self.fmt == "csv":
            with open(f.path, "a", encoding="utf-8", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows(rows)
        else:
            cols = list(f.columns) + ([f.extra] if f.extra else [])
            arrays = [pa.array([r[j] for r in rows], pa.string()) for j in range(len(cols))]
            f.writer.write_table(pa.Table.from_arrays(arrays, names=cols))
        f.rows += len(rows)
        return off

    def write_frame(self, t: Table, extract: str, df: pl.DataFrame) -> int:
        f = self.file(t, extract)
        off = f.rows
        if df.height == 0:
            return off
        if f.extra:
            df = df.with_columns(pl.lit("v").alias(f.extra))
        if self.fmt == "csv":
            with open(f.path, "a", encoding="utf-8", newline="") as fh:
                fh.write(df.write_csv(include_header=False, line_terminator="\n"))
        else:
            f.writer.write_table(
                df.to_arrow().cast(pa.schema([(c, pa.string()) for c in df.columns]))
            )
        f.rows += df.height
        return off

    def close(self) -> None:
        for f in self.files.values():
            if self.fmt != "csv":
                f.writer.close()


#: Days simulated after `end` whatever `daily` is (nightly extracts up to this many share a world).
SIM_DAYS_AFTER_END = 31


def _split(
    t: Table, rows: Iterable[tuple], end: dt.date, days: list[dt.date]
) -> dict[str, list[tuple]]:
    """Rows (known day, key, values...) -> extract id -> values; the latest version per key."""
    init: dict = {}
    daily: dict[dt.date, dict] = {d: {} for d in days}
    last = days[-1] if days else end
    for r in rows:
        known = r[0]
        if known <= end:
            init[r[1]] = r[2:]
        elif known <= last:
            daily[known][r[1]] = r[2:]
    out = {end.isoformat(): list(init.values())}
    for d in days:
        out[d.isoformat()] = list(daily[d].values())
    return out


def _snapshot(rows: list[tuple], end: dt.date, days: list[dt.date]) -> dict[str, list[tuple]]:
    out = {}
    for x in [end, *days]:
        cur: dict = {}
        for r in rows:
            if r[0] <= x:
                cur[r[1]] = r[2:]
        out[x.isoformat()] = list(cur.values())
    return out


def _usage_frame(parts: list[dict], H: dt.date) -> pl.DataFrame:
    """Daily usage rows of a chunk as a text frame, received on or before the horizon."""
    if not parts:
        return pl.DataFrame(
            {c: [] for c in [*USAGE_COLS, "_known"]},
            schema={**dict.fromkeys(USAGE_COLS, pl.String), "_known": pl.Int64},
        )
    n = [len(p["occ"]) for p in parts]
    occ = np.concatenate([p["occ"] for p in parts])
    rec = np.concatenate([p["rec"] for p in parts])
    df = pl.DataFrame(
        {
            "sid": np.repeat([p["sid"] for p in parts], n),
            "acct": np.repeat([p["acct"] for p in parts], n),
            "metric": np.repeat([p["metric"] for p in parts], n),
            "occ": pl.Series((occ - EPOCH_ORD).astype(np.int32)).cast(pl.Date),
            "rec": pl.Series(
                ((rec - EPOCH_ORD) * 86400 + np.concatenate([p["recv_s"] for p in parts])) * 1000
            ).cast(pl.Datetime("ms")),
            "qty": np.concatenate([p["qty"] for p in parts]),
            "_known": rec,
        }
    )
    df = df.filter(pl.col("_known") <= H.toordinal())
    return df.select(
        pl.concat_str(
            [
                pl.lit("USG-"),
                pl.col("sid").str.slice(4),
                pl.lit("-"),
                pl.col("occ").dt.strftime("%Y%m%d"),
            ]
        ).alias("usage_id"),
        pl.col("sid").alias("subscription_id"),
        pl.col("acct").alias("account_id"),
        pl.col("metric").alias("usage_metric"),
        pl.col("qty").cast(pl.String).alias("quantity"),
        pl.col("occ").dt.strftime("%Y-%m-%dT00:00:00Z").alias("occurred_at"),
        pl.col("rec").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("received_at"),
        pl.col("_known"),
    )


def _plan_rows(plans_rows: list[dict], day: dt.date) -> list[tuple]:
    out = []
    for p in plans_rows:
        out.append(
            (
                day,
                p["plan_id"],
                p["plan_id"],
                p["product_id"],
                p["product_name"],
                p["product_family"],
                p["charge_type"],
                None if p["billing_period_months"] is None else str(p["billing_period_months"]),
                dec(p["unit_price"]),
                dec(p["included_units"]),
                p["usage_metric"],
                p["currency"],
                b2s(p["active"]),
                ts(day, 8 * 3600),
            )
        )
    return out


def generate(
    out: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    start: dt.date = dt.date(2023, 1, 1),
    end: dt.date = dt.date(2026, 10, 31),
    daily: int = 0,
    bad_rows: float = 0.0,
    fmt: Literal["csv", "parquet"] = "csv",
    exception_rate: float = 0.02,
    progress: Callable[[str], None] | None = None,
) -> GenerateResult:
    """Write a landing folder of the simulated company (see module docstring)."""
    out = Path(out)
    if end < start:
        raise ValueError("end must be on or after start")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}")
    say = progress or (lambda _m: None)
    truth = _fresh_folders(out)
    days = [end + dt.timedelta(days=k) for k in range(1, daily + 1)]
    last = days[-1] if days else end
    # The world is simulated to a horizon independent of --daily (up to SIM_DAYS_AFTER_END), so
    # adding nightly extracts never rewrites history: the initial extract stays byte-identical.
    horizon = end + dt.timedelta(days=max(daily, SIM_DAYS_AFTER_END))
    plans, plan_rows = price_book()
    p = Params(seed, start, end, horizon, max(3, round(1000 * scale)), exception_rate, plans)
    ex = _Extracts(
        out, fmt, end, days, Corruptor(seed, bad_rows, end, BY_NAME) if bad_rows > 0 else None
    )
    # company-wide reference data first (plans, and FX before any money fact)
    ex.emit(
        BY_NAME["billing.plans"],
        _snapshot(_plan_rows(plan_rows, start - dt.timedelta(days=60)), end, days),
    )
    ex.emit_rows(
        BY_NAME["reference.fx_rates"], fx_rows(seed, start - dt.timedelta(days=7), horizon)
    )
    say(f"simulating {p.n_accounts} accounts")
    company = _Company()
    for c0 in range(0, p.n_accounts, CHUNK):
        company.simulate_chunk(p, range(c0, min(p.n_accounts, c0 + CHUNK)), ex)
        say(f"accounts {min(p.n_accounts, c0 + CHUNK)}/{p.n_accounts}")
    unassigned: list[tuple] = []
    costs = procurement(
        seed, start, horizon, company.billings, company.contractors, unassigned=unassigned
    )
    for name, rows in costs.items():
        ex.emit_rows(BY_NAME[name], rows)
    ex.sink.close()
    if ex.corrupt:
        _special_files(out, fmt, end, BY_NAME, ex.keep, ex.corrupt, ex.counts, ex.sink)
    files = sorted(f for src in SOURCES for f in (out / src).rglob(f"*.{fmt}"))
    # only exceptions of lines that some written extract can hold
    exceptions = [e for e in company.exceptions if e[7] <= last]
    _write_truth(truth, ex.corrupt, exceptions)
    write_planted_truth(truth, company.anomalies, unassigned, last)
    say(f"wrote {len(files)} files")
    return GenerateResult(
        ex.counts, files, truth, len(exceptions), len(ex.corrupt.manifest) if ex.corrupt else 0
    )


def _fresh_folders(out: Path) -> Path:
    """Empty the landing folder's sources (only what we write: a rerun replaces it) and the truth
    folder beside it; returns the truth folder."""
    truth = out.parent / f"{out.name}.truth"
    for src in SOURCES:
        shutil.rmtree(out / src, ignore_errors=True)
    shutil.rmtree(truth, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True)
    return truth


#: tables written from the accounts' rows (the rest are company-wide or usage frames)
ACCOUNT_TABLES = tuple(
    t
    for t in TABLES
    if t.source != "procurement"
    and t.qualified_name not in ("billing.plans", "reference.fx_rates", "billing.usage")
)


@dataclass
class _Company:
    """What the accounts add up to beyond their rows: billing exceptions, and the billings and
    contractor hours procurement's costs follow."""

    exceptions: list[tuple] = field(default_factory=list)
    anomalies: list[tuple] = field(default_factory=list)
    billings: dict = field(default_factory=dict)
    contractors: list = field(default_factory=list)

    def simulate_chunk(self, p: Params, accounts: range, ex: _Extracts) -> None:
        """Simulate a chunk of accounts and write their rows."""
        chunk_rows: dict[str, list[tuple]] = {}
        usage_parts: list[dict] = []
        for i in accounts:
            res = simulate_account(p, i)
            for k, v in res.rows.items():
                chunk_rows.setdefault(k, []).extend(v)
            usage_parts += res.usage
            self.exceptions += res.exceptions
            self.anomalies += res.anomalies
            for k, v in res.stats.get("billings", {}).items():
                self.billings[k] = self.billings.get(k, Decimal(0)) + v
            if "contractor" in res.stats:
                kick, go, hours, accy = res.stats["contractor"]
                self.contractors.append((f"ACC-{i + 1:07d}", kick, go, hours, accy))
        for t in ACCOUNT_TABLES:
            rows = chunk_rows.get(t.qualified_name, [])
            ex.emit_rows(t, [r for r in rows if r[0] <= p.horizon])
        ex.emit_usage(_usage_frame(usage_parts, p.horizon))


class _Extracts:
    """Rows -> the initial extract (dated `end`) and the daily ones, each file followed by its
    injected bad rows; counts rows per table and keeps a few good payments for the whole-file
    faults."""

    def __init__(
        self, out: Path, fmt: str, end: dt.date, days: list[dt.date], corrupt: Corruptor | None
    ):
        self.fmt, self.end, self.days, self.corrupt = fmt, end, days, corrupt
        self.sink = Sink(out, fmt)
        self.counts: dict[str, int] = dict.fromkeys(BY_NAME, 0)
        self.keep: dict[str, list[tuple]] = {}  # a few rows for the missing-column file
        if corrupt:
            self.sink.extra_columns[("crm.opportunities", end.isoformat())] = "legacy_region_code"
            corrupt.whole_file(
                "crm.opportunities",
                f"crm/opportunities/{end.isoformat()}.{fmt}",
                "legacy_region_code",
                "extra_column",
            )

    def emit_rows(self, t: Table, rows: list[tuple]) -> None:
        """Rows (known day, key, values...) into extracts by the table's load mode."""
        if t.load_mode == LoadMode.SNAPSHOT:
            self.emit(t, _snapshot(rows, self.end, self.days))
        else:
            self.emit(t, _split(t, rows, self.end, self.days))

    def emit(self, t: Table, per_extract: dict[str, list[tuple]]) -> None:
        initial = self.end.isoformat()
        for ext, rows in per_extract.items():
            if not rows and t.load_mode == LoadMode.APPEND and ext != initial:
                continue
            if t.qualified_name == "billing.payments" and ext == initial:
                kept = self.keep.setdefault(t.qualified_name, [])
                kept.extend(rows[: 20 - len(kept)])
            off = self.sink.write(t, ext, rows)
            self.counts[t.qualified_name] += len(rows)
            if self.corrupt:
                path = f"{t.source}/{t.name}/{ext}.{self.fmt}"
                bad = self.corrupt.rows(t, path, rows, off + len(rows))
                self.sink.write(t, ext, bad)
                self.counts[t.qualified_name] += len(bad)

    def emit_usage(self, udf: pl.DataFrame) -> None:
        """A chunk's usage frame: rows known by `end` into the initial extract, then one daily
        extract per arrival day; bad rows are corrupted copies of a sample."""
        t = BY_NAME["billing.usage"]
        parts = [(self.end.isoformat(), udf.filter(pl.col("_known") <= self.end.toordinal()))]
        parts += [(d.isoformat(), udf.filter(pl.col("_known") == d.toordinal())) for d in self.days]
        for ext, part in parts:
            part = part.drop("_known")
            off = self.sink.write_frame(t, ext, part)
            self.counts[t.qualified_name] += part.height
            if self.corrupt and part.height:
                path = f"billing/usage/{ext}.{self.fmt}"
                sample = self.corrupt.sample_frame(part, path, off)
                bad = self.corrupt.rows(t, path, sample, off + part.height, population=part.height)
                self.sink.write(t, ext, bad)
                self.counts[t.qualified_name] += len(bad)


def _special_files(
    out: Path,
    fmt: str,
    end: dt.date,
    by_name: dict[str, Table],
    keep: dict[str, list[tuple]],
    corrupt: Corruptor,
    counts: dict[str, int],
    sink: Sink,
) -> None:
    """Whole-file faults in an extra extract `<end>T120000Z`: a missing required column, an
    unreadable file. Their rows are copies of good rows, so losing them loses nothing."""
    ext = f"{end.isoformat()}T120000Z"
    t = by_name["billing.payments"]
    rows = keep.get(t.qualified_name, [])
    drop = t.column_names.index("amount")
    s2 = Sink(out, fmt)
    f = s2.file(
        Table(
            t.source, t.name, t.load_mode, t.key, tuple(c for c in t.columns if c.name != "amount")
        ),
        ext,
    )
    s2.write(
        Table(
            t.source, t.name, t.load_mode, t.key, tuple(c for c in t.columns if c.name != "amount")
        ),
        ext,
        [r[:drop] + r[drop + 1 :] for r in rows],
    )
    s2.close()
    counts[t.qualified_name] += len(rows)
    corrupt.whole_file(
        t.qualified_name, f.path.relative_to(out).as_posix(), "amount", "missing_column"
    )
    t = by_name["support.tickets"]
    p = out / t.source / t.name / f"{ext}.{fmt}"
    p.write_bytes(b"ticket_id,account_id\n\xff\xfe\x00garbage\x9c\x80\n")
    corrupt.whole_file(t.qualified_name, p.relative_to(out).as_posix(), "", "unreadable_file")
    _record_and_landing_faults(out, end, by_name, keep, corrupt, counts)


def _record_and_landing_faults(
    out: Path,
    end: dt.date,
    by_name: dict[str, Table],
    keep: dict[str, list[tuple]],
    corrupt: Corruptor,
    counts: dict[str, int],
) -> None:
    """Lines a parser could mis-split (a surplus field, an unclosed quote, a last line cut off
    without its line break) in an extra CSV extract of copies of good payments, and files the
    landing folder must refuse: hidden, badly named, dated in 2099, two files for one extract,
    a link leaving the folder. Nothing here is loaded, so the company's numbers are unchanged."""
    t = by_name["billing.payments"]
    rows = keep.get(t.qualified_name, [])[:3]
    if len(rows) == 3:
        rel = f"{t.source}/{t.name}/{end.isoformat()}T130000Z.csv"
        cells = [[("" if v is None else str(v)) for v in r] for r in rows]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(t.column_names)
        w.writerow([*cells[0], "surplus"])  # one field too many
        buf.write(",".join(['"' + cells[1][0], *cells[1][1:]]) + "\n")  # quote never closed
        last = ",".join(cells[2])
        buf.write(last[: len(last) - 2])  # cut two characters short, no final line break
        (out / rel).write_text(buf.getvalue(), encoding="utf-8")
        counts[t.qualified_name] += 3
        for i, reason in enumerate(("malformed_record", "malformed_record", "truncated_record")):
            corrupt.manifest.append((t.source, t.name, rel, str(i + 1), "", reason))
    payments = out / t.source / t.name
    refused = {
        "crm/.DS_Store": ("", "misplaced_file"),
        f"{t.source}/{t.name}/latest.csv": (t.qualified_name, "bad_extract_id"),
        f"{t.source}/{t.name}/2099-01-01.csv": (t.qualified_name, "future_extract"),
    }
    for rel in refused:
        (out / rel).write_text(",".join(t.column_names) + "\n", encoding="utf-8")
    fx = by_name["reference.fx_rates"]
    for suffix in ("csv", "parquet"):
        rel = f"{fx.source}/{fx.name}/{end.isoformat()}T140000Z.{suffix}"
        (out / rel).write_text("rate_date,currency,units_per_usd\n", encoding="utf-8")
        refused[rel] = (fx.qualified_name, "duplicate_extract")
    link = payments / f"{end.isoformat()}T150000Z.csv"
    outside = out.parent / f"{out.name}.truth" / "outside_landing.csv"
    outside.write_text(",".join(t.column_names) + "\n", encoding="utf-8")
    link.symlink_to(os.path.relpath(outside, payments))
    refused[link.relative_to(out).as_posix()] = (t.qualified_name, "outside_landing")
    for rel, (qname, reason) in refused.items():
        src, name = qname.split(".") if qname else ("", "")
        corrupt.manifest.append((src, name, rel, "", "", reason))


def _write_truth(truth: Path, corrupt: Corruptor | None, exceptions: list[tuple]) -> None:
    with open(truth / "bad_rows.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            ["source", "table", "file", "row_number", "column", "reason_code", "probable_cause"]
        )
        for r in sorted(
            corrupt.manifest if corrupt else [],
            key=lambda r: (r[2], r[3] == "", int(r[3] or 0), r[5]),
        ):
            w.writerow([*r, cause_of_bad_row(r[5], r[4])])
    with open(truth / "billing_exceptions.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "exception_type",
                "account_id",
                "subscription_id",
                "charge_id",
                "period_start",
                "expected_amount",
                "issued_amount",
                "line_date",
                "probable_cause",
            ]
        )
        for e in sorted(exceptions, key=lambda e: (e[1], e[2] or "", e[3] or "", e[4], e[0])):
            w.writerow([e[0], e[1], e[2], e[3], d2s(e[4]), dec(e[5]), dec(e[6]), d2s(e[7]), e[8]])
    (truth / "README.md").write_text(TRUTH_README, encoding="utf-8")


TRUTH_README = """# Truth manifest of a generated landing folder

Written by `pipelines.generate` beside the landing folder (`X` -> `X.truth/`), never inside it.

## bad_rows.csv
One row per injected contract violation.
`source, table` — the table; `file` — path relative to the landing folder
(e.g. `billing/invoices/2026-10-31.csv`); `row_number` — 1-based data row (header excluded),
empty for whole-file reasons; `column` — the offending column (for `extra_column` the extra
column's name, for `missing_column` the missing one); `reason_code` — one of
`pipelines.contract.model.REASON_CODES`.

* Row faults are corrupted copies of good rows under a fresh key (the key + `-B<n>`), appended
  after the good rows of a chunk, so every clean row of the company is unchanged.
* `duplicate_key`: an exact copy of a good row later in the same file; listed is the later row.
* `unknown_reference` and `no_fx_rate` rows are otherwise valid: the loader loads and reports them.
* Whole-file faults live in the extra extract `<end>T120000Z` (copies only; a missing required
  column and an unreadable file) and in `crm/opportunities/<end>.csv` (an extra column).

## billing_exceptions.csv
Every exception the billing system injected, per R9 key (subscription_id or charge_id,
period_start), amounts summed over the key's lines:
`missing_in_billing` (issued_amount 0.00), `unexpected_in_billing` (expected_amount 0.00),
`amount_mismatch`. `line_date` (an addition to the brief's columns) is the date of the key's
lines (usage: the 1st of the month after period_start): an R9 run as of D sees the exceptions
with line_date <= D. Issued lines of void invoices were re-issued on a replacement invoice.
Removing these from the issued lines leaves exactly the R3 lines (docs/dev/billing-rules.md).
`probable_cause` (an addition) is why the billing system got the key wrong: see
`pipelines/generate/truth.py` (EXCEPTION_CAUSES).

## bad_rows.csv: probable_cause
The cause behind each injected fault (an addition): `pipelines/generate/truth.py` (BAD_ROW_CAUSES).

## anomalies.csv
One row per planted anomalous event (`pipelines/generate/plant.py`): `account_id, month, kind,
rows, detail` — kind one of invoice_total_spike, usage_spike, credit_note_spike, duplicate_line,
price_above_list, usage_after_cancellation; `rows` the ids of (some of) the rows behind it,
space-separated; month the month the event belongs to (usage: its usage month; a line billed
twice: its period start's month). Events dated after the extract's end are left out.

## unassigned_vendor_bills.csv
Vendor bills written with neither account nor product family although the vendor serves one
family: `bill_id, vendor_id, true_family`.
"""
