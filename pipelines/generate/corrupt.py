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
        todo: list[str] = []
        if file.split("/")[-1].startswith(self.end + "."):
            for tb, reason in sorted(self.forced):
                if tb == t.qualified_name:
                    todo.append(reason)
                    self.forced.discard((tb, reason))
        names = sorted(reasons)
        todo += [names[int(rng.integers(len(names)))] for _ in range(min(k, len(rows)))]
        out: list[tuple] = []
        cols = t.column_names
        for i, reason in enumerate(todo):
            src = rows[int(rng.integers(len(rows)))]
            col = reasons[reason][int(rng.integers(len(reasons[reason])))]
            self.n += 1
            row = list(src)
            if reason != "duplicate_key" and t.qualified_name != "reference.fx_rates":
                row[0] = f"{row[0]}-B{tag}x{offset + i}"
            j = cols.index(col) if col in cols else 0
            c = t.column(col) if col in cols else None
            if reason == "bad_type":
                row[j] = BAD_TYPE[c.type]
                if col == "rate_date":
                    row[j] = f"2025-13-{(offset + i) % 100:02d}"
            elif reason == "bad_enum":
                row[j] = f"not_{row[j] or 'set'}"
            elif reason == "bad_currency":
                row[j] = "EURO" if row[j] != "EUR" else "eur"
            elif reason == "bad_country":
                row[j] = "Germany"
            elif reason == "missing_required":
                row[j] = None
            elif reason == "negative_amount":
                v = row[j]
                row[j] = f"-{v}" if v and v[0] != "-" and v.strip("0.") else "-1.5"
            elif reason == "out_of_range":
                row[j] = "7"
            elif reason == "unknown_reference":
                row[j] = f"{(row[j] or 'X')[:3]}-NOTFOUND-{tag}x{offset + i}"
            elif reason == "no_fx_rate":
                row[j] = "CHF"
            out.append(tuple(row))
            self.manifest.append((t.source, t.name, file, str(offset + len(out)), col, reason))
        return out
