"""Writes into a build file's bookkeeping tables that are not the loader's own: check outcomes
(`audit.check_results`, counted in audit.runs) and the files refused under the landing folder
(`quarantine.files`)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from pipelines.contract.model import LANDING_REJECT_REASONS
from pipelines.ingest.landing import MAPPING_FOLDER, LandingScan
from pipelines.ingest.records import countable_path_rows
from pipelines.warehouse.publish import connect_build, utcnow

#: How a dbt test that did not run (an upstream node failed) is described in audit.check_results.
DBT_TEST_SKIPPED = "dbt test skipped"


def record_check(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    name: str,
    asset: str,
    passed: bool,
    blocking: bool,
    description: str,
) -> None:
    """One check outcome inside the build, so audit.runs can count it."""
    con.execute(
        "INSERT INTO audit.check_results VALUES ($r, $n, $a, $p, $b, $d, $t)",
        {
            "r": run_id,
            "n": name[:300],
            "a": asset,
            "p": passed,
            "b": blocking,
            "d": description[:1000],
            "t": utcnow(),
        },
    )


def dbt_test_results(run_results: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(unique id, status) of every dbt data and unit test in dbt's run_results.json."""
    return [
        (str(r["unique_id"]), str(r["status"]))
        for r in run_results.get("results", [])
        if str(r.get("unique_id", "")).startswith(("test.", "unit_test."))
    ]


def record_dbt_tests(path: Path, run_id: str, run_results: Mapping[str, Any]) -> int:
    """dbt tests count as checks (a failed or erroring test blocks; a skipped one is described
    as `DBT_TEST_SKIPPED`). Raises if the build file cannot be written: a check that is not
    recorded must not look like a check that passed."""
    rows = dbt_test_results(run_results)
    with contextlib.closing(connect_build(path)) as con:
        con.execute("BEGIN")
        for uid, status in rows:
            record_check(
                con,
                run_id,
                name=uid,
                asset="dbt",
                passed=status == "pass",
                blocking=status in ("fail", "error"),
                description=f"dbt test {status}",
            )
        con.execute("COMMIT")
    return len(rows)


def record_refused(
    con: duckdb.DuckDBPyConnection, scan: LandingScan, run_id: str, at: dt.datetime
) -> int:
    """Replace the landing refusals in `quarantine.files` with this scan's: they describe the
    folder as it is now (a fixed file drops out, a future extract is loaded on its day)."""
    con.execute(
        "DELETE FROM quarantine.files WHERE list_contains($codes, reason_code)",
        {"codes": sorted(LANDING_REJECT_REASONS)},
    )
    for r in scan.refused:
        con.execute(
            """INSERT INTO quarantine.files (source, "table", file, sha256, extract_id,
                   reason_code, reason, rows_read, run_id, quarantined_at)
               VALUES ($source, $table, $file, $sha, $ext, $code, $reason, $rows, $run, $at)""",
            {
                "source": r.source,
                "table": r.table,
                "file": r.rel,
                "sha": r.sha256(),
                "ext": r.extract_id,
                "code": r.code,
                "reason": r.reason,
                "rows": countable_path_rows(r.path),
                "run": run_id,
                "at": at,
            },
        )
    return len(scan.refused)


def record_mapping_rejects(
    con: duckdb.DuckDBPyConnection, landing: Path, run_id: str, at: dt.datetime
) -> int:
    """Replace the rows `subops map` could not place (`<landing>/_mapping/<mapping>/quarantine/
    *.csv`) in `quarantine.rows`: like landing refusals they describe the folder as it is now,
    so a re-mapped export drops its fixed rows. The rows name the export file, row and column."""
    con.execute("DELETE FROM quarantine.rows WHERE mapping IS NOT NULL")
    files = sorted((Path(landing) / MAPPING_FOLDER).glob("*/quarantine/*.csv"))
    for f in files:
        con.execute(
            """INSERT INTO quarantine.rows (source, "table", file, row_number, "column",
                   reason_code, reason, raw_record, run_id, extract_id, quarantined_at, mapping)
               SELECT source, "table", file, CAST(row_number AS BIGINT), "column", reason_code,
                      reason, raw_record, $run, extract_id, $at, $mapping
               FROM read_csv($path, all_varchar = true, header = true)""",
            {"run": run_id, "at": at, "mapping": f.parent.parent.name, "path": str(f)},
        )
    if not files:
        return 0
    return con.execute("SELECT count(*) FROM quarantine.rows WHERE mapping IS NOT NULL").fetchall()[
        0
    ][0]
