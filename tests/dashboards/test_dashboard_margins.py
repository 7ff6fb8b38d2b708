"""The Margins page (R7) on the warehouse the real pipeline built: it renders, its figures are
gross_margin_monthly's cell of the global filters (nothing added up on the page), the period and
comparison set the tiles and charts, a vendor's bar lists its months, and a build without the
margin marts shows notes instead of tracebacks.

Until the build publishes gross_margin_monthly, the tests add a stand-in cube (same columns and
'all' roll-ups, from account_margin_monthly) to a copy of the build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pipeline_warehouse
import pytest
from pipeline_warehouse import LATEST_FULL_MONTH, copy_warehouse, execute
from streamlit.testing.v1 import AppTest

from dashboards.lib import fmt, queries_margins

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
PAGE = "app_pages/margins.py"
MARGIN_MARTS = (
    "gross_margin_monthly",
    "account_margin_monthly",
    "cohort_margin",
    "cogs_reconciliation_monthly",
    "vendor_spend_monthly",
)
#: A cube of gross_margin_monthly's shape for builds that do not publish it yet: accounts split
#: over two real product families by a hash, every dimension also rolled up to 'all'.
STAND_IN = """
CREATE TABLE marts.gross_margin_monthly AS
WITH facts AS (
    SELECT m.month, m.account_id, coalesce(m.segment, '(none)') AS segment,
        coalesce(m.region, '(none)') AS region,
        CASE WHEN hash(m.account_id) % 2 = 0 THEN 'analytics' ELSE 'platform' END AS product_family,
        m.revenue_usd, m.cogs_vendor_usd, m.cogs_support_usd, m.cogs_implementation_usd
    FROM marts.account_margin_monthly AS m
),
cubed AS (
    SELECT month,
        CASE WHEN grouping(segment) = 1 THEN 'all' ELSE segment END AS segment,
        CASE WHEN grouping(region) = 1 THEN 'all' ELSE region END AS region,
        CASE WHEN grouping(product_family) = 1 THEN 'all' ELSE product_family END AS product_family,
        sum(revenue_usd) AS revenue_usd, sum(cogs_vendor_usd) AS cogs_vendor_usd,
        sum(cogs_support_usd) AS cogs_support_usd,
        sum(cogs_implementation_usd) AS cogs_implementation_usd,
        count(DISTINCT account_id) AS active_accounts
    FROM facts GROUP BY month, CUBE (segment, region, product_family)
)
SELECT month::DATE AS month, segment, region, product_family,
    revenue_usd::DECIMAL(18, 2) AS revenue_usd,
    cogs_vendor_usd::DECIMAL(18, 2) AS cogs_vendor_usd,
    cogs_support_usd::DECIMAL(18, 2) AS cogs_support_usd,
    cogs_implementation_usd::DECIMAL(18, 2) AS cogs_implementation_usd,
    (cogs_vendor_usd + cogs_support_usd + cogs_implementation_usd)::DECIMAL(18, 2) AS cogs_usd,
    (revenue_usd - cogs_vendor_usd - cogs_support_usd - cogs_implementation_usd)::DECIMAL(18, 2)
        AS gross_margin_usd,
    CASE WHEN revenue_usd <> 0 THEN round((revenue_usd - cogs_vendor_usd - cogs_support_usd
        - cogs_implementation_usd) / revenue_usd, 6) END::DECIMAL(18, 6) AS gross_margin_pct,
    active_accounts::BIGINT AS active_accounts
FROM cubed
"""
CUBE_SQL = (
    "SELECT revenue_usd, cogs_vendor_usd, cogs_support_usd, cogs_implementation_usd, cogs_usd, "
    "gross_margin_usd, gross_margin_pct FROM marts.gross_margin_monthly "
    "WHERE month = ? AND segment = ? AND region = ? AND product_family = ?"
)


def _sql(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    return pipeline_warehouse.rows(path, sql, params)


def _has_cube(path: Path) -> bool:
    return bool(
        _sql(
            path,
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = 'marts' AND table_name = 'gross_margin_monthly'",
        )
    )


def _with_cube(source_dir: Path, target_dir: Path) -> Path:
    """A writable copy of a build with gross_margin_monthly (the stand-in when it has none)."""
    target = copy_warehouse(source_dir, target_dir)
    if not _has_cube(target):
        execute(target, STAND_IN)
    return target


@pytest.fixture(scope="module")
def cube_dir(warehouse_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if _has_cube(warehouse_dir / "current.duckdb"):
        return warehouse_dir
    d = tmp_path_factory.mktemp("margins_cube")
    _with_cube(warehouse_dir, d)
    return d


@pytest.fixture
def cube(cube_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(cube_dir))
    return cube_dir / "current.duckdb"


def _margins(**params: str) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def _tiles_are_the_cell(
    at: AppTest, path: Path, cell: tuple[str, str, str], month: dt.date, before: dt.date
) -> None:
    """The tiles are the cube's row of the cell at `month`, deltas vs its row at `before`."""
    row, prev = (_sql(path, CUBE_SQL, [m, *cell])[0] for m in (month, before))
    rev, vendor, support, impl, cogs, gm, pct = row
    assert rev is not None
    usd = fmt.currency("USD")
    tiles = {m.label: m for m in at.metric}
    assert {k: m.value for k, m in tiles.items()} == {
        "Gross margin": "n/a" if pct is None else fmt.pct(pct),
        "Gross margin amount": fmt.money_short(gm, usd),
        "COGS": fmt.money_short(cogs, usd),
        "Vendor cost": fmt.money_short(vendor, usd),
        "Support cost": fmt.money_short(support, usd),
        "Implementation cost": fmt.money_short(impl, usd),
    }
    assert tiles["Gross margin"].proto.delta == (fmt.delta_pp(pct, prev[6]) or "")
    assert tiles["COGS"].proto.delta == (fmt.delta_money(cogs, prev[4], usd) or "")
    want = f"vs {before:%b %Y}"
    assert all(m.proto.delta_description.startswith(want) for m in at.metric if m.proto.delta)


def test_every_margins_query_runs_on_the_build(cube: Path) -> None:
    start, end = dt.date(2025, 11, 1), LATEST_FULL_MONTH
    (vendor,) = _sql(cube, "SELECT min(vendor_id) FROM marts.vendor_spend_monthly")[0]
    args = {"vendor_months": (vendor, start, end)}
    for name, f in queries_margins.QUERIES.items():
        df = f(cube, *args.get(name, (start, end)))
        assert not df.empty, name
    totals = queries_margins.margin_cube(cube, start, end)
    assert list(totals["month"]) == sorted(set(totals["month"]))  # one 'all' cell per month
    assert all(isinstance(v, Decimal) for v in totals["gross_margin_usd"].dropna())


def test_margins_page_renders_with_the_marts_numbers(cube: Path) -> None:
    at = _margins()
    assert [t.value for t in at.title] == ["Margins"]
    _tiles_are_the_cell(at, cube, ("all", "all", "all"), LATEST_FULL_MONTH, dt.date(2026, 9, 1))
    assert any(fmt.month_label(LATEST_FULL_MONTH) in s.value for s in at.subheader)
    # the vendor table's no-PO count is the mart's, over the period (the last 12 full months)
    (no_po,) = _sql(
        cube,
        "SELECT sum(bills_without_approved_po) FROM marts.vendor_spend_monthly "
        "WHERE month BETWEEN ? AND ?",
        [dt.date(2025, 11, 1), LATEST_FULL_MONTH],
    )[0]
    assert any(f"{int(no_po):,} bills from" in c.value for c in at.caption)
    assert len(at.dataframe) >= 5  # families, segments, cohorts, vendors, reconciliation


def _cell(path: Path) -> tuple[str, str]:
    """A segment and a product family (both on the filters' allow-lists) with revenue in the
    tile month and the month before."""
    rows = _sql(
        path,
        "SELECT c.segment, c.product_family FROM marts.gross_margin_monthly AS c "
        "WHERE c.region = 'all' AND c.month IN (?, ?) AND c.revenue_usd > 0 "
        "AND c.segment IN (SELECT segment FROM marts.dim_accounts) "
        "AND c.product_family IN (SELECT product_family FROM marts.dim_plans) "
        "GROUP BY ALL HAVING count(*) = 2 ORDER BY 1, 2 LIMIT 1",
        [dt.date(2025, 10, 1), LATEST_FULL_MONTH],
    )
    assert rows, "the cube has no segment × family cell with revenue"
    return rows[0]


def test_a_segment_and_a_family_pick_the_cubes_cell(cube: Path) -> None:
    segment, family = _cell(cube)
    at = _margins(segment=segment, family=family)
    cell = (segment, "all", family)
    _tiles_are_the_cell(at, cube, cell, LATEST_FULL_MONTH, dt.date(2026, 9, 1))
    tables = {tuple(d.value.columns[:2]): d.value for d in at.dataframe}
    by_family = tables[("month", "product_family")]
    by_segment = tables[("month", "segment")]
    assert set(by_family["product_family"]) == {family}
    assert set(by_segment["segment"]) == {segment}
    # each row is the cube's cell, not a sum
    for _, row in by_family.iterrows():
        want = _sql(cube, CUBE_SQL, [row["month"], segment, "all", family])[0]
        assert Decimal(str(row["gross_margin_usd"])) == want[5]
    notes = " ".join(c.value for c in at.caption)
    assert "filters don't apply" in notes  # cohorts and vendors are company-wide


def test_a_period_preset_and_a_click_on_a_vendor(cube: Path) -> None:
    at = _margins(period="3m", cmp="yoy")
    _tiles_are_the_cell(at, cube, ("all", "all", "all"), LATEST_FULL_MONTH, dt.date(2025, 10, 1))
    assert "vs Oct 2025 (YoY)" in {m.proto.delta_description for m in at.metric}
    start = dt.date(2026, 8, 1)
    by_family = next(d.value for d in at.dataframe if "product_family" in d.value.columns)
    assert {fmt.as_date(m) for m in by_family["month"]} <= {
        start,
        dt.date(2026, 9, 1),
        LATEST_FULL_MONTH,
    }
    vendor, name = _sql(
        cube,
        "SELECT vendor_id, any_value(vendor_name) FROM marts.vendor_spend_monthly "
        "WHERE month BETWEEN ? AND ? GROUP BY 1 ORDER BY sum(amount_usd) DESC LIMIT 1",
        [start, LATEST_FULL_MONTH],
    )[0]
    at.session_state["vendor_chart"] = {
        "selection": {
            "points": [{"y": name, "curve_number": 0, "point_index": 0}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert at.selectbox(key="vendor_pick").value == vendor
    (n,) = _sql(
        cube,
        "SELECT count(*) FROM marts.vendor_spend_monthly WHERE vendor_id = ? "
        "AND month BETWEEN ? AND ?",
        [vendor, start, LATEST_FULL_MONTH],
    )[0]
    shown = next(
        d.value for d in at.dataframe if list(d.value.columns[:2]) == ["month", "vendor_id"]
    )
    assert set(shown["vendor_id"]) == {vendor} and len(shown) == n


def test_margins_page_in_eur_build(
    eur_warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_cube(eur_warehouse_dir, tmp_path)
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    at = _margins()
    money = [m.value for m in at.metric if m.label != "Gross margin"]
    assert money and all(v.lstrip("+-").startswith("€") for v in money), money


@pytest.fixture
def without_margin_marts(warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    d = tmp_path / "wh"
    path = _with_cube(warehouse_dir, d)
    execute(path, *(f"DROP TABLE IF EXISTS marts.{m}" for m in MARGIN_MARTS))
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(d))
    return d


def test_margins_page_without_the_marts_explains(without_margin_marts: Path) -> None:
    at = _margins()
    notes = "\n".join(i.body for i in at.info)
    for mart in ("gross_margin_monthly", "cohort_margin", "vendor_spend_monthly"):
        assert f"marts.{mart}" in notes


@pytest.fixture
def no_margin_rows(warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    d = tmp_path / "wh"
    path = _with_cube(warehouse_dir, d)
    execute(path, *(f"DELETE FROM marts.{m}" for m in MARGIN_MARTS))
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(d))
    return d


def test_margins_page_empty_state(no_margin_rows: Path) -> None:
    at = _margins()
    notes = "\n".join(i.body for i in at.info)
    assert "no margin to show" in notes
    assert "No cohort started" in notes and "No vendor bills" in notes
    assert not at.metric
