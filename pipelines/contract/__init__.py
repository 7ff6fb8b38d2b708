"""The source contract v1 as data: the one definition the generator, loader, dbt sources,
quality checks and docs are derived from. Depends on nothing else in the project."""

from pipelines.contract.model import (
    LINEAGE_COLUMNS,
    REASON_CODES,
    SOURCES,
    Column,
    ColumnType,
    LoadMode,
    Table,
)
from pipelines.contract.tables import TABLES, table, tables_by_source

__all__ = [
    "LINEAGE_COLUMNS",
    "REASON_CODES",
    "SOURCES",
    "TABLES",
    "Column",
    "ColumnType",
    "LoadMode",
    "Table",
    "table",
    "tables_by_source",
]
