"""Types of the source contract: tables, columns, load modes, reason codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SOURCES: tuple[str, ...] = ("crm", "billing", "support", "procurement", "reference")


#: reference.fx_rates quotes every currency as units per one of this; it needs no rate row itself.
FX_BASE_CURRENCY = "USD"


class ColumnType(StrEnum):
    """Logical column types of docs/sources.md; each maps to one physical warehouse type."""

    ID = "id"
    TEXT = "text"
    ENUM = "enum"
    DATE = "date"
    TIMESTAMP = "timestamp"
    DECIMAL = "decimal"
    INT = "int"
    BOOL = "bool"
    CURRENCY = "currency"
    COUNTRY = "country"


class LoadMode(StrEnum):
    SNAPSHOT = "snapshot"
    APPEND = "append"


#: Physical type in the `raw` schema (DuckDB spelling; dbt sources cast portably from these).
RAW_SQL_TYPES: dict[ColumnType, str] = {
    ColumnType.ID: "VARCHAR",
    ColumnType.TEXT: "VARCHAR",
    ColumnType.ENUM: "VARCHAR",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",  # always UTC, offset applied on load
    ColumnType.DECIMAL: "DECIMAL(18,4)",
    ColumnType.INT: "INTEGER",
    ColumnType.BOOL: "BOOLEAN",
    ColumnType.CURRENCY: "VARCHAR",
    ColumnType.COUNTRY: "VARCHAR",
}

#: Whole-value form of the code types: ISO 4217 currency, ISO 3166-1 alpha-2 country (regex).
CODE_PATTERNS: dict[ColumnType, str] = {
    ColumnType.CURRENCY: "[A-Z]{3}",
    ColumnType.COUNTRY: "[A-Z]{2}",
}

#: Lineage columns every raw table carries after the contract columns (name, SQL type, meaning).
LINEAGE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_file", "VARCHAR", "landing file the row was loaded from, relative to the landing folder"),
    ("_extract_id", "VARCHAR", "extract id of that file (its name without extension)"),
    ("_row_number", "BIGINT", "1-based data row number in that file (header excluded)"),
    ("_loaded_at", "TIMESTAMP", "UTC time the row was loaded"),
    (
        "_is_deleted",
        "BOOLEAN",
        "snapshot: key absent from the latest extract (kept, flagged)",
    ),
    ("_extra", "VARCHAR", "JSON object of columns not in the contract (schema drift), else NULL"),
)

#: Vocabulary of quarantine reasons, shared by the generator's truth manifest and the loader.
REASON_CODES: dict[str, str] = {
    "bad_type": "value cannot be parsed as the column's type (e.g. a date that is not YYYY-MM-DD)",
    "bad_enum": "value is not one of the column's allowed lower-case words",
    "bad_currency": "value is not an ISO 4217 upper-case three-letter code",
    "bad_country": "value is not an ISO 3166-1 alpha-2 upper-case code",
    "missing_required": "a required (or conditionally required) value is empty",
    "negative_amount": "a number below the column's minimum (e.g. a negative amount)",
    "out_of_range": "a number outside the column's allowed values (e.g. csat_score 1-5)",
    "duplicate_key": "the key appears more than once in the same file",
    "unknown_reference": "an id that names a row that exists in no extract of its table",
    "missing_column": "the file lacks a required column: the whole file is quarantined",
    "extra_column": "the file has a column the contract does not know (kept aside, reported)",
    "unreadable_file": "the file is not valid UTF-8 CSV or Parquet: the whole file is quarantined",
    "no_fx_rate": "a currency used in money columns has no FX rate on or before the day needed",
    "stale_fx_rate": "the latest FX rate on or before the day needed is older than allowed",
    "overpayment": "succeeded payments take an invoice's paid total above the invoice total",
    "malformed_record": "a row with more or fewer fields than the header, or a line break inside "
    "a value (an unbalanced quote): the row and every line it swallowed are quarantined",
    "truncated_record": "the file does not end with a line break: its last row may be cut off",
    "misplaced_file": "a file that is not at <source>/<table>/<extract_id>.csv|parquet of a "
    "contract table (unknown or misspelled folder, nested folder, hidden file)",
    "bad_extract_id": "a file name that is not an extract id (YYYY-MM-DD or YYYY-MM-DDTHHMMSSZ)",
    "future_extract": "an extract dated after today (plus the allowed tolerance)",
    "outside_landing": "a symbolic link that points outside the landing folder",
    "duplicate_extract": "two files (CSV and Parquet) for the same table and extract id",
}

#: Reason codes that reject a row during load (the rest are reported after load, row kept).
ROW_REJECT_REASONS: frozenset[str] = frozenset(
    {
        "bad_type",
        "bad_enum",
        "bad_currency",
        "bad_country",
        "missing_required",
        "negative_amount",
        "out_of_range",
        "duplicate_key",
    }
)
#: Whole-file rejections.
FILE_REJECT_REASONS: frozenset[str] = frozenset({"missing_column", "unreadable_file"})
#: Files refused before reading, by name or place; re-evaluated on every build (a future extract
#: becomes loadable when its day comes), so they never enter audit.load_log.
LANDING_REJECT_REASONS: frozenset[str] = frozenset(
    {"misplaced_file", "bad_extract_id", "future_extract", "outside_landing", "duplicate_extract"}
)
#: Rows refused by the record reader before validation (they cannot be split into fields).
RECORD_REJECT_REASONS: frozenset[str] = frozenset({"malformed_record", "truncated_record"})
#: Reported after load; the row stays loaded (referential rules are checked across extracts).
REPORT_ONLY_REASONS: frozenset[str] = frozenset(
    {"unknown_reference", "extra_column", "no_fx_rate", "stale_fx_rate", "overpayment"}
)


@dataclass(frozen=True)
class Column:
    """One contract column. `required_when` makes a column required only for some rows:
    (other column, allowed values), e.g. plan_id is required when event_type in (activate, change).
    """

    name: str
    type: ColumnType
    required: bool = False
    description: str = ""
    enum: tuple[str, ...] = ()
    minimum: str | None = None  # decimal literal; bound inclusive unless exclusive_minimum
    exclusive_minimum: bool = False
    allowed: tuple[int, ...] = ()  # allowed int values (e.g. billing_period_months)
    required_when: tuple[str, tuple[str, ...]] | None = None
    references: tuple[str, str] | None = None  # ("crm.accounts", "account_id")
    default: str | None = None  # documented default when NULL (e.g. included_units = 0)

    @property
    def sql_type(self) -> str:
        return RAW_SQL_TYPES[self.type]

    @property
    def is_money_or_number(self) -> bool:
        return self.type in (ColumnType.DECIMAL, ColumnType.INT)


@dataclass(frozen=True)
class Table:
    source: str
    name: str
    load_mode: LoadMode
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    version: str | None = None  # append: the column whose greatest value wins for a repeated key
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def qualified_name(self) -> str:
        """`crm.accounts` — the source/table path in a landing folder."""
        return f"{self.source}.{self.name}"

    @property
    def raw_table(self) -> str:
        """`crm__accounts` — the table's name in the warehouse's `raw` schema."""
        return f"{self.source}__{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns that must be present in every file (required or conditionally required)."""
        return tuple(c.name for c in self.columns if c.required or c.required_when)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified_name} has no column {name!r}")

    def raw_ddl(self, schema: str = "raw") -> str:
        """CREATE TABLE statement of the raw table (contract columns then lineage columns)."""
        cols = [f'"{c.name}" {c.sql_type}' for c in self.columns]
        cols += [f'"{n}" {t}' for n, t, _ in LINEAGE_COLUMNS]
        return (
            f"CREATE TABLE IF NOT EXISTS {schema}.{self.raw_table} (\n  "
            + ",\n  ".join(cols)
            + "\n)"
        )
