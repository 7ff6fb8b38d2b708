"""Read-only access to the published warehouse, as dashboards, `subops sql` and analysts get it."""

from __future__ import annotations

from pathlib import Path

import duckdb


class WarehouseNotFoundError(RuntimeError):
    """No warehouse has been published yet."""


def connect_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a warehouse file read-only with external access disabled (no files, no network).

    Short-lived connections only: a reader holding the file does not block publication (a new
    build is swapped in by rename), but it keeps seeing the snapshot it opened.
    """
    path = Path(path)
    if not path.exists():
        raise WarehouseNotFoundError(
            f"no published warehouse at {path}: run `subops build` (or `make demo`) first"
        )
    return duckdb.connect(
        str(path.resolve()),
        read_only=True,
        config={"enable_external_access": False, "autoload_known_extensions": False},
    )
