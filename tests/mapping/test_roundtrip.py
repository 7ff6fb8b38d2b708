"""Round trip: a generated company written as Stripe, Salesforce and Zendesk exports (the other
tables in contract shape), mapped back with `subops map`, is the same company.

What is proved, and what it costs: every contract table's rows as the warehouse would hold them
(typed as the loader types them, one row per key as the load modes settle them) are compared row
for row between the mapped landing folder and the one generated in contract shape directly —
marts are a function of those rows, so equal rows give equal marts; this costs seconds. Then
ONE build of the mapped folder (~45 s) shows it loads with nothing quarantined and publishes.
Set SUBOPS_ROUNDTRIP_MARTS=1 to also build the contract folder and compare every mart row for
row (a second build; not in `make test`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.contract import TABLES, LoadMode, Table
from pipelines.generate import generate
from pipelines.ingest.sql import Params
from pipelines.ingest.validate import typed_expr
from pipelines.mapping.model import load_mapping
from pipelines.mapping.run import map_exports
from pipelines.mapping.writers import COVERS, write_system

pytestmark = pytest.mark.slow

COMPANY = {
    "scale": 0.05,
    "seed": 5,
    "start": dt.date(2025, 1, 1),
    "end": dt.date(2026, 10, 31),
    "daily": 2,
}


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """(contract-shaped landing, landing mapped back from the three systems' exports, results)."""
    root = tmp_path_factory.mktemp("roundtrip")
    direct, mapped = root / "direct", root / "mapped"
    generate(direct, **COMPANY)  # type: ignore[arg-type]
    shutil.copytree(direct, mapped)
    results = {}
    for system in COVERS:
        export = root / f"export.{system}"
        write_system(mapped, system, export)
        results[system] = map_exports(load_mapping(system), export, mapped)
    return direct, mapped, results


def _settled(landing: Path, t: Table) -> str:
    """SQL: the table's rows as the loader settles them (typed; the latest extract of a
    snapshot; the latest version, then extract, per key of an append table)."""
    files = sorted((landing / t.source / t.name).glob("*.csv"))
    p = Params()
    cols = ", ".join(f'{typed_expr(c, p)} AS "{c.name}"' for c in t.columns)
    lst = ", ".join(f"'{f}'" for f in files)
    src = (
        f"(SELECT *, regexp_extract(filename, '([^/]+)\\.csv$', 1) AS __e FROM read_csv([{lst}], "
        "all_varchar = true, filename = true, union_by_name = true))"
    )
    if t.load_mode is LoadMode.SNAPSHOT:
        return f"SELECT {cols} FROM {src} WHERE __e = (SELECT max(__e) FROM {src})"
    key = ", ".join(f'"{k}"' for k in t.key)
    order = (f'"{t.version}" DESC NULLS LAST, ' if t.version else "") + "__e DESC"
    return (
        f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY {order}) "
        f"AS __rn FROM {src}) WHERE __rn = 1"
    )


def test_every_row_comes_back_to_the_cent(company):
    direct, mapped, results = company
    for system, r in results.items():
        assert r.rows_quarantined == 0, system
        assert {t.table for t in r.tables} == set(COVERS[system])
    assert not (mapped / "_mapping" / "stripe" / "quarantine").exists()
    with contextlib.closing(duckdb.connect()) as con:
        for t in TABLES:
            a, b = _settled(direct, t), _settled(mapped, t)
            n = con.execute(f"SELECT count(*) FROM ({a})").fetchall()[0][0]
            assert n > 0, t.qualified_name
            only_direct = con.execute(f"{a} EXCEPT ALL {b}").fetchall()
            only_mapped = con.execute(f"{b} EXCEPT ALL {a}").fetchall()
            assert (only_direct[:3], only_mapped[:3]) == ([], []), t.qualified_name


def test_stripe_amounts_are_minor_units_per_currency(company):
    """Cents for USD/EUR/GBP, whole yen for JPY (no minor unit), metered prices for usage."""
    direct, _, _ = company
    export = direct.parent / "export.stripe" / "2026-11-02"
    invoices = sorted((direct / "billing" / "invoices").glob("*.csv"))
    with contextlib.closing(duckdb.connect()) as con:
        factors = dict(
            con.execute(
                f"""SELECT DISTINCT s.currency,
                           CAST(s.total AS DECIMAL(38,4)) / CAST(c.total AS DECIMAL(38,4))
                    FROM read_csv('{export / "invoice.csv"}', all_varchar = true) s
                    JOIN read_csv({[str(f) for f in invoices]}, all_varchar = true) c
                      ON c.invoice_id = s.id
                    WHERE CAST(c.total AS DECIMAL(38,4)) <> 0"""
            ).fetchall()
        )
        assert factors == {"usd": 100, "eur": 100, "gbp": 100, "jpy": 1}
        usage = con.execute(
            f"SELECT count(*) FROM read_csv('{export / 'price.csv'}', all_varchar = true) "
            "WHERE recurring_usage_type = 'metered'"
        ).fetchall()[0][0]
        assert usage > 0


def _marts(path: Path) -> dict[str, list[tuple]]:
    from pipelines.warehouse.readonly import connect_readonly

    with contextlib.closing(connect_readonly(path)) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        ]
        return {n: con.execute(f'SELECT * FROM marts."{n}" ORDER BY ALL').fetchall() for n in names}


def test_the_mapped_company_builds_and_publishes(company, tmp_path_factory):
    from pipelines.run.build import run_build
    from pipelines.settings import get_settings
    from pipelines.warehouse.readonly import connect_readonly

    from .test_faults import _export

    direct, mapped, _ = company
    wh = tmp_path_factory.mktemp("wh")
    # rows an earlier `subops map` could not place (another export): the build quarantines them
    scratch = tmp_path_factory.mktemp("faulty")
    map_exports(load_mapping("zendesk"), _export(scratch), scratch / "landing")
    rejects = mapped / "_mapping" / "zendesk" / "quarantine"
    rejects.mkdir(parents=True)
    shutil.copy(scratch / "landing/_mapping/zendesk/quarantine/2026-10-31.csv", rejects)
    s = get_settings(landing_dir=mapped, warehouse_dir=wh / "mapped")
    r = run_build(s)
    assert r.published, r.failure_reason
    assert r.rows_quarantined == 0  # every landing row loaded
    with contextlib.closing(connect_readonly(s.current_warehouse)) as con:
        assert con.execute(
            'SELECT file, row_number, "column", reason_code FROM quarantine.rows '
            "WHERE mapping = 'zendesk' ORDER BY row_number"
        ).fetchall() == [
            ("zendesk/2026-10-31/tickets.csv", 2, "tickets.status", "bad_enum"),
            ("zendesk/2026-10-31/tickets.csv", 3, "tickets.created_at", "bad_type"),
        ]
        assert con.execute("SELECT count(*) FROM quarantine.rows").fetchall() == [(2,)]
    marts = _marts(s.current_warehouse)
    assert marts["fct_invoice_lines"] and marts["mrr_bridge_monthly"]
    if os.environ.get("SUBOPS_ROUNDTRIP_MARTS"):
        d = get_settings(landing_dir=direct, warehouse_dir=wh / "direct")
        rd = run_build(d)
        assert rd.published, rd.failure_reason
        expected = _marts(d.current_warehouse)
        assert marts.keys() == expected.keys()
        for name, rows in expected.items():
            assert marts[name] == rows, name
