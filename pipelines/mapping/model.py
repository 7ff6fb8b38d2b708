"""A source mapping (`mappings/<name>.yml`): how one system's export files become contract tables.

Declarative on purpose: a user with another system writes a mapping, not code. The target
columns and their types are never restated here: they come from `pipelines.contract.tables`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.contract import ColumnType, table
from pipelines.contract.model import Table
from pipelines.settings import PROJECT_ROOT

#: Where the shipped mappings live (`--mapping stripe` reads mappings/stripe.yml).
MAPPINGS_DIR = PROJECT_ROOT / "mappings"

#: ISO 4217 currencies whose minor unit is not a hundredth (Stripe's lists: zero-decimal and
#: three-decimal currencies). Any other currency has two decimals.
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "JPY",
            "KMF",
            "KRW",
            "MGA",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "JOD", "KWD", "OMR", "TND"], 3),
}


class MappingError(ValueError):
    """A mapping file that cannot be used: names the file, table and column and the fix."""


def _text(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ColumnMap(_Strict):
    """How one contract column is filled: exactly one of `column`, `expr`, `const`; then
    optional value map, parsing and unit conversion (applied in that order)."""

    column: str | None = Field(None, description="export column copied as is")
    expr: str | None = Field(
        None, description="one SQL expression over the export's columns (DuckDB), text in"
    )
    const: str | None = Field(None, description="the same value on every row")
    values: dict[str, str | None] | None = Field(
        None,
        description="value map (export value -> contract value); a value not listed "
        "is quarantined (bad_enum); map a value to null to keep it empty on purpose",
    )
    format: str | None = Field(
        None,
        description="strptime format of dates/timestamps (e.g. '%m/%d/%Y %H:%M'), or "
        "'epoch' / 'epoch_ms' for Unix seconds / milliseconds",
    )
    timezone: str | None = Field(
        None, description="time zone of timestamps written without an offset (default UTC)"
    )
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: Literal[",", ".", " ", "'"] | None = None
    minor_units: str | None = Field(
        None,
        description="amount is in minor units of the currency named by this export column "
        "(cents; JPY and other zero-decimal currencies have none)",
    )
    divide_by: Decimal | None = Field(None, description="unit conversion, e.g. 60 for s -> min")

    @field_validator("values", mode="before")
    @classmethod
    def _text_keys(cls, v: object) -> object:
        """YAML reads `1`, `yes`, `true` as numbers and booleans; exports hold text."""
        if isinstance(v, dict):
            return {_text(k): (None if x is None else _text(x)) for k, x in v.items()}
        return v

    @field_validator("const", mode="before")
    @classmethod
    def _text_const(cls, v: object) -> object:
        return None if v is None else _text(v)

    @model_validator(mode="after")
    def _one_source(self) -> ColumnMap:
        given = [k for k in ("column", "expr", "const") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of column, expr, const (got {given or 'none'})")
        if self.decimal_separator == self.thousands_separator:
            raise ValueError("decimal_separator and thousands_separator must differ")
        return self


class Join(_Strict):
    """A second export file joined to the main one (one contract table fed by two files)."""

    file: str = Field(description="export file name without extension, e.g. subscription_item")
    on: str = Field(description="SQL condition over both files' columns")
    how: Literal["left", "inner"] = "left"

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, v: object) -> object:
        """YAML 1.1 reads the key `on` as true."""
        if isinstance(v, dict) and True in v:
            v = {("on" if k is True else k): x for k, x in v.items()}
        return v


class TableMap(_Strict):
    """One contract table: its main export file, joins, a row filter and its columns."""

    file: str = Field(alias="from", description="export file name without extension")
    join: list[Join] = Field(default_factory=list)
    where: str | None = Field(
        None, description="SQL condition: rows outside it are not this table's (not quarantined)"
    )
    columns: dict[str, ColumnMap]

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, v: object) -> object:
        """`account_id: customer_id` is short for `account_id: {column: customer_id}`."""
        if isinstance(v, dict):
            return {k: {"column": c} if isinstance(c, str) else c for k, c in v.items()}
        return v

    def files(self) -> list[str]:
        return [self.file, *(j.file for j in self.join)]


class Mapping(_Strict):
    """A whole mapping file: the system it reads and, per contract table, how to fill it."""

    name: str
    system: str = Field(description="the system and how its exports arrive")
    description: str = ""
    tables: dict[str, TableMap] = Field(description="keyed by contract table, e.g. crm.accounts")
    cannot_fill: dict[str, str] = Field(
        default_factory=dict,
        description="contract columns (table.column) this system has no field for, and why",
    )

    @model_validator(mode="after")
    def _against_contract(self) -> Mapping:
        for qname, tm in self.tables.items():
            try:
                t = table(qname)
            except KeyError:
                raise ValueError(f"tables: {qname!r} is not a contract table") from None
            unknown = [c for c in tm.columns if c not in t.column_names]
            if unknown:
                raise ValueError(f"{qname}: {unknown} are not columns of the contract table")
            missing = [c for c in t.required_columns if c not in tm.columns]
            if missing:
                raise ValueError(f"{qname}: required contract columns not mapped: {missing}")
            for cname, cm in tm.columns.items():
                ctype = t.column(cname).type
                if cm.minor_units and ctype is not ColumnType.DECIMAL:
                    raise ValueError(f"{qname}.{cname}: minor_units only applies to decimals")
                if cm.format and ctype not in (ColumnType.DATE, ColumnType.TIMESTAMP):
                    raise ValueError(f"{qname}.{cname}: format only applies to dates/timestamps")
        return self

    def contract_table(self, qname: str) -> Table:
        return table(qname)

    def export_files(self) -> list[str]:
        """Every export file the mapping reads (main and joined), in order of first use."""
        seen: dict[str, None] = {}
        for tm in self.tables.values():
            for f in tm.files():
                seen.setdefault(f, None)
        return list(seen)


def mapping_path(name_or_path: str | Path) -> Path:
    """A shipped mapping by name (`stripe`) or any mapping file by path."""
    p = Path(name_or_path)
    if p.suffix in (".yml", ".yaml") or p.exists():
        return p
    return MAPPINGS_DIR / f"{name_or_path}.yml"


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Read and validate a mapping; errors name the file and the fix."""
    path = mapping_path(name_or_path)
    if not path.is_file():
        shipped = sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml"))
        raise MappingError(
            f"no mapping {str(name_or_path)!r} ({path} does not exist); shipped: "
            f"{', '.join(shipped)} — or give the path of your own .yml"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Mapping.model_validate(data)
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise MappingError(
            f"{path}: {where}: {first['msg']} ({exc.error_count()} error(s))"
        ) from None
