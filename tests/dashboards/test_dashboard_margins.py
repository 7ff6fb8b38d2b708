"""The Margins page (R7) on the warehouse the real pipeline built: it renders, its headline
figures are the marts' own numbers, its queries all run on the build, and a build without the
margin marts shows notes instead of tracebacks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pipeline_warehouse
import pytest
from pipeline_warehouse import AS_OF, copy_warehouse, execute
from streamlit.testing.v1 import AppTest

from dashboards.lib import fmt, queries_margins

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
PAGE = "app_pages/margins.py"
MARGIN_MARTS = (
    "account_margin_monthly",
    "cohort_margin",
    "cogs_reconciliation_monthly",
    "vendor_spend_monthly",
)


def _margins(at: AppTest | None = None) -> AppTest:
    at = (at or AppTest.from_file(str(ENTRY), default_timeout=60)).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def _one(path: Path, sql: str, params: list | None = None) -> tuple:
    return pipeline_warehouse.rows(path, sql, params)[0]


def _month() -> dt.date:
    """The latest full month of the test build (AS_OF is early in its month)."""
    first = AS_OF.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def test_every_margins_query_runs_on_the_build(warehouse: Path) -> None:
    through = AS_OF.replace(day=1)
    args = {"margin_totals": (through,), "margin_by_segment": (through,)}
    for name, f in queries_margins.QUERIES.items():
        df = f(warehouse, *args.get(name, ()))
        assert not df.empty, name
    totals = queries_margins.margin_totals(warehouse)
    assert all(isinstance(v, Decimal) for v in totals["gross_margin_usd"].dropna())


def test_margins_page_renders_with_the_marts_numbers(warehouse: Path) -> None:
    at = _margins()
    assert [t.value for t in at.title] == ["Margins"]
    tiles = {m.label: m.value for m in at.metric}
    month = _month()
    rev, cogs, gm, vendor, support, impl = _one(
        warehouse,
        "SELECT sum(revenue_usd), sum(cogs_usd), sum(gross_margin_usd), sum(cogs_vendor_usd), "
        "sum(cogs_support_usd), sum(cogs_implementation_usd) "
        "FROM marts.account_margin_monthly WHERE month = ?",
        [month],
    )
    assert rev is not None
    (pct,) = _one(
        warehouse, "SELECT gross_margin_pct FROM marts.kpi_monthly WHERE month = ?", [month]
    )
    usd = fmt.currency("USD")
    assert tiles == {
        "Gross margin": fmt.pct(pct),
        "Gross margin amount": fmt.money_short(gm, usd),
        "COGS": fmt.money_short(cogs, usd),
        "Vendor cost": fmt.money_short(vendor, usd),
        "Support cost": fmt.money_short(support, usd),
        "Implementation cost": fmt.money_short(impl, usd),
    }
    assert any(fmt.month_label(month) in s.value for s in at.subheader)
    # the vendor table's no-PO count is the mart's
    (no_po,) = _one(
        warehouse, "SELECT sum(bills_without_approved_po) FROM marts.vendor_spend_monthly"
    )
    assert any(f"{int(no_po):,} bills from" in c.value for c in at.caption)
    assert len(at.dataframe) >= 4  # segments, cohorts, vendors, reconciliation: downloadable


def test_margins_page_in_eur_build(eur_warehouse: Path) -> None:
    at = _margins()
    money = [m.value for m in at.metric if m.label != "Gross margin"]
    assert money and all(v.lstrip("+-").startswith("€") for v in money), money


@pytest.fixture
def without_margin_marts(warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    d = tmp_path / "wh"
    d.mkdir()
    path = copy_warehouse(warehouse_dir, d)
    execute(path, *(f"DROP TABLE IF EXISTS marts.{m}" for m in MARGIN_MARTS))
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(d))
    return d


def test_margins_page_without_the_marts_explains(without_margin_marts: Path) -> None:
    at = _margins()
    notes = "\n".join(i.body for i in at.info)
    for mart in ("account_margin_monthly", "cohort_margin", "vendor_spend_monthly"):
        assert f"marts.{mart}" in notes


@pytest.fixture
def no_margin_rows(warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    d = tmp_path / "wh"
    d.mkdir()
    path = copy_warehouse(warehouse_dir, d)
    execute(path, *(f"DELETE FROM marts.{m}" for m in MARGIN_MARTS))
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(d))
    return d


def test_margins_page_empty_state(no_margin_rows: Path) -> None:
    at = _margins()
    notes = "\n".join(i.body for i in at.info)
    assert "no margin to show" in notes
    assert "No cohort yet" in notes and "No vendor bills" in notes
    assert not at.metric
