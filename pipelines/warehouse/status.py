"""What the published warehouse holds — for `subops status` and the dashboard's header."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.settings import Settings
from pipelines.warehouse.readonly import connect_readonly


@dataclass
class WarehouseStatus:
    path: Path
    resolved: Path
    facts: dict[str, object] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)


def _tables(con, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? "
        "order by table_name",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def warehouse_status(settings: Settings) -> WarehouseStatus:
    """Latest run from audit.runs and row counts of every marts table (names from the catalog)."""
    path = settings.current_warehouse
    con = connect_readonly(path)
    try:
        st = WarehouseStatus(path=path, resolved=path.resolve())
        if "runs" in _tables(con, "audit"):
            cur = con.execute("select * from audit.runs order by started_at desc limit 1")
            cols = [d[0] for d in cur.description]
            row = cur.fetchone()
            if row:
                st.facts.update(dict(zip(cols, row, strict=True)))
        for name in _tables(con, "marts"):
            # the name comes from the catalog, never from the user; quoted as an identifier
            (n,) = con.execute(f'select count(*) from marts."{name}"').fetchall()[0]
            st.mart_rows[name] = n
        return st
    finally:
        con.close()
