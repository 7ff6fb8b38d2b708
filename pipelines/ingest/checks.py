"""Post-load checks of a raw table: the contract holds in raw, and every file reconciles.

Plain functions returning (passed, description, metadata) so Dagster asset checks, the build
summary and tests share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from pipelines.contract import ColumnType, Table
from pipelines.ingest.load import SnapshotChange
from pipelines.ingest.sql import Params, ident, raw_table_ref


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict[str, int | str | float] = field(default_factory=dict)


def contract_check(
    con: duckdb.DuckDBPyConnection, t: Table, files: Sequence[str] | None = None
) -> CheckOutcome:
    """Raw holds one row per key, no required value is NULL, enums are in their vocabulary.

    With `files` (the files this build loaded), only their rows are examined, and keys repeated
    anywhere in raw among their keys: the rest of raw passed this check in the build that
    loaded it, so a nightly costs what it loaded, not the table's history."""
    raw = raw_table_ref(t.raw_table)
    keys = ", ".join(ident(k) for k in t.key)
    hashed = f"hash({', '.join(f'r.{ident(k)}' for k in t.key)})"
    new = list(files or [])
    # only this build's rows, unless they are all of raw (a full build: no filter needed)
    only_new = files is not None and bool(
        con.execute(
            f"SELECT count(*) FROM {raw} WHERE NOT list_contains($f, _file)", {"f": new}
        ).fetchall()[0][0]
    )
    p = Params()
    among = "true"  # the keys to check: all of raw, or those of the rows this build loaded
    if only_new:
        mine = f"SELECT {hashed} FROM {raw} r WHERE list_contains({p(new)}, _file)"
        among = f"{hashed} IN ({mine})"
    problems: dict[str, int] = {}
    # keys whose hash repeats (a fixed-width aggregate, cheap on tens of millions of keys), then
    # counted exactly among those few
    problems["duplicate_keys"] = con.execute(
        f"""WITH h AS (SELECT {hashed} AS h FROM {raw} r WHERE {among}
                       GROUP BY ALL HAVING count(*) > 1)
            SELECT count(*) FROM (
                SELECT {keys} FROM {raw} r WHERE {hashed} IN (SELECT h FROM h)
                GROUP BY ALL HAVING count(*) > 1)""",
        p.values,
    ).fetchall()[0][0]
    p = Params()
    rows = f"(SELECT * FROM {raw} WHERE list_contains({p(new)}, _file))" if only_new else raw
    nulls = [f"count(*) FILTER (WHERE {ident(c.name)} IS NULL)" for c in t.columns if c.required]
    enums = [
        f"count(*) FILTER (WHERE NOT list_contains({p(list(c.enum))}, {ident(c.name)}))"
        for c in t.columns
        if c.type is ColumnType.ENUM
    ]
    row = con.execute(
        f"SELECT {', '.join(['0', *nulls])}, {', '.join(['0', *enums])} FROM {rows}", p.values
    ).fetchall()[0]
    problems["null_required"] = sum(row[1 : 1 + len(nulls)])
    problems["bad_enum"] = sum(row[2 + len(nulls) :])
    passed = not any(problems.values())
    desc = "raw conforms to the contract" if passed else f"raw breaks the contract: {problems}"
    if files is not None:
        desc += f" (the rows of the {len(files)} file(s) this build loaded)"
    return CheckOutcome("contract", passed, desc, {k: int(v) for k, v in problems.items()})


def reconciliation_check(con: duckdb.DuckDBPyConnection, t: Table, run_id: str) -> CheckOutcome:
    """For every file loaded in this run: read = loaded + quarantined, quarantine holds exactly
    the quarantined rows, and raw holds no more rows than were ever loaded."""
    params = {"s": t.source, "t": t.name, "run": run_id}
    unbalanced = con.execute(
        """SELECT count(*) FROM audit.load_log WHERE source = $s AND "table" = $t
           AND run_id = $run AND rows_read <> rows_loaded + rows_quarantined""",
        params,
    ).fetchall()[0][0]
    mismatched = con.execute(
        """SELECT count(*) FROM audit.load_log l
           LEFT JOIN (SELECT file, count(*) AS n FROM quarantine.rows
                      WHERE source = $s AND "table" = $t AND run_id = $run GROUP BY file) q
             ON q.file = l.file
           WHERE l.source = $s AND l."table" = $t AND l.run_id = $run AND l.status <> 'rejected'
             AND l.rows_quarantined <> coalesce(q.n, 0)""",
        params,
    ).fetchall()[0][0]
    loaded_total = con.execute(
        """SELECT coalesce(sum(rows_loaded), 0) FROM audit.load_log
           WHERE source = $s AND "table" = $t""",
        {"s": t.source, "t": t.name},
    ).fetchall()[0][0]
    raw_rows = con.execute(f"SELECT count(*) FROM {raw_table_ref(t.raw_table)}").fetchall()[0][0]
    files = con.execute(
        """SELECT count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0),
                  coalesce(sum(rows_quarantined), 0)
           FROM audit.load_log WHERE source = $s AND "table" = $t AND run_id = $run""",
        params,
    ).fetchall()[0]
    meta = {
        "files_this_run": int(files[0]),
        "rows_read": int(files[1]),
        "rows_loaded": int(files[2]),
        "rows_quarantined": int(files[3]),
        "raw_rows": int(raw_rows),
        "unbalanced_files": int(unbalanced),
        "quarantine_mismatch_files": int(mismatched),
    }
    passed = unbalanced == 0 and mismatched == 0 and raw_rows <= loaded_total
    desc = (
        "every file reconciles (read = loaded + quarantined)"
        if passed
        else f"row counts do not reconcile: {meta} (raw rows vs ever loaded {loaded_total})"
    )
    return CheckOutcome("reconciliation", passed, desc, meta)


def snapshot_check(
    t: Table, change: SnapshotChange | None, max_share: float, *, confirmed: bool
) -> CheckOutcome:
    """A new snapshot that would mark more than `max_share` of the previous extract's keys
    deleted blocks publication (a header-only, half-written or wrong file looks exactly like
    this), unless the operator confirmed the deletions."""
    if change is None:
        return CheckOutcome("snapshot_deletions", True, "no new latest snapshot in this build")
    meta: dict[str, int | str | float] = {
        "file": change.file,
        "previous_file": change.previous_file or "",
        "previous_keys": change.previous_keys,
        "deleted": change.deleted,
        "share": round(change.share, 4),
    }
    what = (
        f"{change.file} would mark {change.deleted} of {change.previous_keys} "
        f"{t.qualified_name} rows deleted ({change.share:.1%}) vs {change.previous_file}"
    )
    if change.share <= max_share:
        return CheckOutcome("snapshot_deletions", True, f"{what}; within {max_share:.0%}", meta)
    if confirmed:
        return CheckOutcome(
            "snapshot_deletions", True, f"{what}; above {max_share:.0%} but confirmed", meta
        )
    return CheckOutcome(
        "snapshot_deletions",
        False,
        f"{what}, above the {max_share:.0%} allowed: replace an incomplete file with a full "
        "export, or confirm real deletions with `subops build --confirm-deletions`",
        meta,
    )
