"""The default target: the DuckDB build file is the warehouse; nothing is shipped or switched
(publication is `pipelines.warehouse.publish`, the symlink switch of current.duckdb)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pipelines.targets.base import EngineTarget


class DuckDBTarget(EngineTarget):
    name: ClassVar[str] = "duckdb"
    is_server: ClassVar[bool] = False

    def ship(self, build_file: Path, run_tag: str) -> dict[str, int]:
        return {}

    def dbt_args(self, run_tag: str) -> list[str]:
        return []  # profiles.yml's default output; the build file comes in --vars

    def dbt_vars(self, run_tag: str) -> dict[str, str]:
        return {}

    def publish(self, run_tag: str) -> None:
        return None

    def discard(self, run_tag: str) -> None:
        return None

    def read_connection(self) -> Any:
        from pipelines.warehouse.readonly import connect

        return connect(self.settings.warehouse_dir)

    def describe(self) -> str:
        return f"duckdb ({self.settings.current_warehouse})"
