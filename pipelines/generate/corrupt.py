"""Bad-row injection: corrupted copies of good rows (fresh keys, so the clean company is
unchanged), each recorded in the truth manifest with its file, row number, column and reason."""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np
import polars as pl

from pipelines.contract import ColumnType, Table

T = ColumnType
#: (table, column) pairs where an unknown id is harmless to the company's numbers
UNKNOWN_REFS = {
    "support.tickets": "account_id",
    "crm.opportunities": "account_id",
    "billing.usage": "subscription_id",
    "procurement.purchase_orders": "vendor_id",
}
NO_FX = {"billing.invoices": "currency", "crm.accounts": "currency"}
#: reasons forced once (first initial-extract file of the table) so every kind appears
FORCED = (
    ("billing.invoices", "bad_type"),
    ("billing.invoice_lines", "bad_type"),
    ("billing.invoices", "bad_enum"),
    ("billing.payments", "bad_currency"),
    ("crm.accounts", "bad_country"),
    ("billing.invoice_lines", "missing_required"),
    ("billing.payments", "negative_amount"),
    ("support.tickets", "out_of_range"),
    ("billing.subscription_events", "duplicate_key"),
    ("support.tickets", "unknown_reference"),
    ("billing.invoices", "no_fx_rate"),
    ("crm.accounts", "no_fx_rate"),
    ("reference.fx_rates", "bad_type"),
)
BAD_TYPE = {
    T.DATE: "2025-13-45",
    T.TIMESTAMP: "2025-02-30T25:61:00Z",
    T.DECIMAL: "12,5",
    T.INT: "twelve",
    T.BOOL: "maybe",
}


class Corruptor:
    def __init__(self, seed: int, rate: float, end: dt.date, tables: dict[str, Table]):
        self.seed = seed
        self.rate = rate
        self.end = end.isoformat()
        self.tables = tables
        self.manifest: list[tuple[str, str, str, str, str, str]] = []
        self.forced = set(FORCED)
        self.n = 0

    def whole_file(self, table: str, file: str, column: str, reason: str) -> None:
        src, name = table.split(".")
        self.manifest.append((src, name, file, "", column, reason))

    def reasons(self, t: Table) -> dict[str, list[str]]:
        """Reason -> columns it can be injected into, for this table (from the contract)."""
        keys = set(t.key)
        cols = [c for c in t.columns if c.name not in keys]
        if t.qualified_name == "reference.fx_rates":
            return {
                "bad_type": ["rate_date"],
                "bad_currency": ["currency"],
                "duplicate_key": ["+".join(t.key)],
            }
        r = {
            "bad_type": [c.name for c in cols if c.type in BAD_TYPE],
            "bad_enum": [c.name for c in cols if c.enum],
            "bad_currency": [c.name for c in cols if c.type == T.CURRENCY],
            "bad_country": [c.name for c in cols if c.type == T.COUNTRY],
            "missing_required": [c.name for c in cols if c.required],
            "negative_amount": [c.name for c in cols if c.minimum is not None],
            "out_of_range": [c.name for c in cols if c.allowed],
            "duplicate_key": ["+".join(t.key)],
        }
        if t.qualified_name in UNKNOWN_REFS:
            r["unknown_reference"] = [UNKNOWN_REFS[t.qualified_name]]
        if t.qualified_name in NO_FX:
            r["no_fx_rate"] = [NO_FX[t.qualified_name]]
        return {k: v for k, v in r.items() if v}

    def _rng(self, file: str, offset: int, salt: int = 0) -> np.random.Generator:
        """A stream per file and position, so a file's faults do not depend on which other
        files (e.g. later daily extracts) are written in the same run."""
        return np.random.default_rng(
            [self.seed, 4242, zlib.crc32(f"{file}:{offset}".encode()), salt]
        )

    def sample_frame(self, df: pl.DataFrame, file: str, offset: int) -> list[tuple]:
        """A handful of rows of a large frame to corrupt (the rate applies to the frame)."""
        rng = self._rng(file, offset, salt=1)
        k = min(df.height, int(rng.binomial(df.height, self.rate)) + 2)
        idx = np.sort(rng.choice(df.height, size=k, replace=False))
        return df[idx.tolist()].rows()

    def rows(
        self, t: Table, file: str, rows: list[tuple], offset: int, population: int | None = None
    ) -> list[tuple]:
        """Bad rows to append to `file` after row `offset`; recorded in the manifest."""
        if not rows:
            return []
        pop = len(rows) if population is None else population
        rng = self._rng(file, offset)
        tag = zlib.crc32(file.encode()) % 100_000
        k = int(rng.binomial(pop, self.rate))
        reasons = self.reasons(t)
        todo = self._forced_here(t, file)
        names = sorted(reasons)
        todo += [names[int(rng.integers(len(names)))] for _ in range(min(k, len(rows)))]
        out: list[tuple] = []
        for i, reason in enumerate(todo):
            src = rows[int(rng.integers(len(rows)))]
            col = reasons[reason][int(rng.integers(len(reasons[reason])))]
            self.n += 1
            out.append(_corrupted(t, src, reason, col, tag, offset + i))
            self.manifest.append((t.source, t.name, file, str(offset + len(out)), col, reason))
        return out

    def _forced_here(self, t: Table, file: str) -> list[str]:
        """Reasons still to force for t, if `file` is an initial extract (then they are done)."""
        todo: list[str] = []
        if file.split("/")[-1].startswith(self.end + "."):
            for tb, reason in sorted(self.forced):
                if tb == t.qualified_name:
                    todo.append(reason)
                    self.forced.discard((tb, reason))
        return todo


def _negative(v: str | None) -> str:
    return f"-{v}" if v and v[0] != "-" and v.strip("0.") else "-1.5"


#: reason -> the bad value made from a good one (reasons needing more context are in _bad_value)
BAD_VALUE = {
    "bad_enum": lambda v: f"not_{v or 'set'}",
    "bad_currency": lambda v: "EURO" if v != "EUR" else "eur",
    "bad_country": lambda v: "Germany",
    "missing_required": lambda v: None,
    "negative_amount": _negative,
    "out_of_range": lambda v: "7",
    "no_fx_rate": lambda v: "CHF",
}


def _corrupted(t: Table, src: tuple, reason: str, col: str, tag: int, pos: int) -> tuple:
    """A copy of a good row with `col` made bad for `reason`, under a fresh key (a duplicate
    keeps its key; FX rows are keyed by date and currency, one of which is made bad)."""
    row = list(src)
    if reason != "duplicate_key" and t.qualified_name != "reference.fx_rates":
        row[0] = f"{row[0]}-B{tag}x{pos}"
    cols = t.column_names
    if col not in cols:  # duplicate_key of a composite key
        return tuple(row)
    j = cols.index(col)
    if reason == "bad_type":
        row[j] = f"2025-13-{pos % 100:02d}" if col == "rate_date" else BAD_TYPE[t.column(col).type]
    elif reason == "unknown_reference":
        row[j] = f"{(row[j] or 'X')[:3]}-NOTFOUND-{tag}x{pos}"
    elif reason in BAD_VALUE:
        row[j] = BAD_VALUE[reason](row[j])
    return tuple(row)
