"""The Streamlit app in-process (AppTest) on the warehouse the real pipeline built: every page
renders without exceptions, figures shown on two pages carry one label and one number, money is
shown in the build's reporting currency, and a missing or partial warehouse is a note, not a
traceback."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pipeline_warehouse import AS_OF, copy_warehouse, execute
from streamlit.testing.v1 import AppTest

from dashboards.lib import labels, queries
from dashboards.lib.pages import PAGE_SCRIPTS

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
OVERVIEW = "app_pages/overview.py"
PAGES = [p for p in PAGE_SCRIPTS if p != OVERVIEW]
#: Pages without amounts in the reporting currency (approvals show each request's currency;
#: anomalies and vendor bills are in the account's or bill's own currency, and ARR only where
#: the build has the renewal-risk table).
NO_REPORTING_MONEY = {"app_pages/operations.py", "app_pages/risk.py"}
TILES = {
    "MRR",
    "ARR",
    "Net new MRR",
    labels.REVENUE,
    "NRR (trailing 12 m)",
    "GRR (trailing 12 m)",
    "Logo churn",
    "Gross margin",
    "Deferred revenue",
    "Accounts receivable",
    "DSO",
    "Bookings",
    "Billing leakage",
    "Collected",
    "Failed payment rate",
    "Active accounts",
}
MONEY_TILES = {"MRR", "ARR", "Net new MRR", labels.REVENUE, "Deferred revenue"}
MONEY_TILES |= {"Accounts receivable", "Bookings", "Billing leakage", "Collected"}
#: Marts of later issues (and data quality): a warehouse published before them must still render.
LATER = (*queries.OPS_MARTS, *queries.QUALITY_MARTS, *queries.RISK_MARTS, *queries.MODEL_MARTS)


def _app() -> AppTest:
    return AppTest.from_file(str(ENTRY), default_timeout=60)


def _ok(at: AppTest) -> None:
    assert not at.exception and not at.error, (at.exception, at.error)


def _texts(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += (
        [e.body for e in at.info] + [e.value for e in at.subheader] + [e.value for e in at.title]
    )
    return "\n".join(str(p) for p in parts)


#: Account 360 is opened on this account (one of the generated company's first customers).
ACCOUNT = "ACC-0000001"


def _page(at: AppTest, page: str) -> AppTest:
    if page.endswith("account_360.py"):
        at.query_params["account"] = ACCOUNT
    if page != OVERVIEW:
        at.switch_page(page).run()
    return at


def _money_shown(at: AppTest) -> str:
    """Everything on the page that formats an amount: tiles, table column configs, charts."""
    parts = [f"{m.value} {m.proto.delta}" for m in at.metric]
    parts += [d.proto.columns for d in at.dataframe]
    parts += [c.proto.spec for c in at.get("plotly_chart")]
    return "\n".join(parts)


def test_overview_tiles_for_latest_full_month(warehouse: Path) -> None:
    at = _app().run()
    _ok(at)
    tiles = {m.label: m for m in at.metric}
    assert set(tiles) == TILES
    for label in MONEY_TILES:
        assert tiles[label].value.lstrip("+-").startswith("$"), (label, tiles[label].value)
    assert tiles["MRR"].value[-1] in "KM"
    assert tiles["NRR (trailing 12 m)"].value.endswith("%")
    assert all(m.value != "—" for m in at.metric)
    text = _texts(at)
    assert "October 2026 at a glance" in text
    assert "Gross margin is provisional" in text  # vendors bill October in arrears
    assert "November 2026 is still open" in text
    run_id = queries.build_info(warehouse).iloc[0]["run_id"]
    assert f"{AS_OF:%d %b %Y}" in text and run_id in text and "amounts in USD" in text
    assert at.selectbox(key="bridge_month").value.isoformat() == "2026-10-01"
    assert not at.warning


def test_bridge_month_can_be_chosen(warehouse: Path) -> None:
    at = _app().run()
    at.selectbox(key="bridge_month").set_value(dt.date(2026, 6, 1)).run()
    _ok(at)
    assert any("June 2026" in str(c.proto.spec) for c in at.get("plotly_chart"))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_every_section(warehouse: Path, page: str) -> None:
    at = _page(_app().run(), page)
    _ok(at)
    assert "not built yet" not in _texts(at)  # the pipeline builds every mart the pages read


def test_revenue_has_one_label_for_one_number(warehouse: Path) -> None:
    """The Overview's and the Revenue page's "Revenue (recognized)" are the same figure; the
    waterfall's recognition (invoice-date rates) is shown under its own name."""
    at = _app().run()
    overview = {m.label: m.value for m in at.metric}
    at.switch_page("app_pages/revenue.py").run()
    _ok(at)
    revenue = {m.label: m.value for m in at.metric}
    assert revenue[labels.REVENUE] == overview[labels.REVENUE]
    others = [k for k in revenue if k != labels.REVENUE]
    assert not [k for k in others if k.lower().startswith(("recognized", "revenue"))], others
    text = _texts(at)
    assert labels.RECOGNIZED_AT_INVOICE_RATES.lower() in text.lower()
    specs = "\n".join(c.proto.spec for c in at.get("plotly_chart"))
    assert labels.RECOGNIZED_AT_INVOICE_RATES in specs
    assert f"{labels.REVENUE} by product family" in specs


def test_revenue_page_ties_the_waterfall_with_the_fx_line(warehouse: Path) -> None:
    """The mart's FX translation column (queries.WATERFALL_FX_DIFFERENCE_COLUMN): the page shows
    recognized at invoice-date rates + FX difference = Revenue (recognized)."""
    at = _app().run()
    at.switch_page("app_pages/revenue.py").run()
    _ok(at)
    tie = [c.value for c in at.caption if labels.FX_DIFFERENCE in c.value]
    assert tie and labels.RECOGNIZED_AT_INVOICE_RATES in tie[0] and labels.REVENUE in tie[0]
    assert any(labels.FX_DIFFERENCE in d.proto.columns for d in at.dataframe)


@pytest.mark.parametrize("page", [OVERVIEW, *PAGES])
def test_money_is_shown_in_the_builds_reporting_currency(eur_warehouse: Path, page: str) -> None:
    """A build reported in EUR (audit.build_info) shows € and (EUR) everywhere, never $/USD."""
    at = _page(_app().run(), page)
    _ok(at)
    shown = _money_shown(at)
    assert "$" not in shown and "USD" not in shown and "dollar" not in shown
    if page in NO_REPORTING_MONEY:
        return
    assert "€" in shown or "(EUR)" in shown or "euro" in shown, page
    assert "amounts in EUR" in _texts(at)
    if page == OVERVIEW:
        tiles = {m.label: m.value for m in at.metric}
        assert all(tiles[t].lstrip("+-").startswith("€") for t in MONEY_TILES), tiles
    else:
        configs = [json.loads(d.proto.columns or "{}") for d in at.dataframe]
        headers = " ".join(json.dumps(c) for c in configs)
        assert "(EUR)" in headers, page


def test_revenue_invoice_filters(warehouse: Path) -> None:
    inv = queries.invoices(warehouse, limit=10_000)
    account = str(inv["account_id"].value_counts().index[0])
    at = _app().run()
    at.switch_page("app_pages/revenue.py").run()
    at.selectbox(key="inv_account").set_value(account).run()
    _ok(at)
    invoices = [d.value for d in at.dataframe if "invoice_key" in d.value]
    assert invoices and set(invoices[0]["account_id"]) == {account}
    months = at.selectbox(key="inv_month").options
    at.selectbox(key="inv_month").select_index(1).run()
    _ok(at)
    assert len(months) > 2


def test_customer_filters_and_cohort_toggle(warehouse: Path) -> None:
    """The account views follow the sidebar's segment (the page has no segment widget of its
    own); the cohort view toggles."""
    at = _app()
    at.query_params["segment"] = "smb"
    at.run()
    at.switch_page("app_pages/customers.py").run()
    _ok(at)
    assert not at.multiselect
    tables = [d.value for d in at.dataframe]
    assert any("segment" in t and set(t["segment"]) == {"smb"} for t in tables)
    at.segmented_control(key="cohort_metric").set_value("mrr").run()
    _ok(at)


def test_data_quality_reason_filters(warehouse: Path) -> None:
    at = _app().run()
    at.switch_page("app_pages/data_quality.py").run()
    _ok(at)
    assert {m.label for m in at.metric} >= {
        "Files",
        "Rows read",
        "Rows quarantined",
        "Facts of unknown accounts left out",
    }
    at.selectbox(key="q_reason").set_value("bad_type").run()
    _ok(at)
    at.selectbox(key="b_reason").set_value("unknown_reference").run()
    _ok(at)
    shown = [d.value for d in at.dataframe if "reason_code" in d.value and "key" in d.value]
    assert shown and set(shown[0]["reason_code"]) == {"unknown_reference"}
    assert any(f"All {len(queries.check_results(warehouse))}" in s.body for s in at.success)


def test_a_warehouse_without_the_later_marts_shows_notes(
    warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse published before the R7–R10 and data-quality marts (edited copy of the
    build): those sections say "not built yet", the rest renders."""
    execute(
        copy_warehouse(warehouse_dir, tmp_path),
        *(f"DROP TABLE IF EXISTS marts.{m}" for m in LATER),
    )
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    at = _app().run()
    _ok(at)
    assert "kpi_monthly" in _texts(at) and "not built yet" in _texts(at)
    for page in PAGES:
        _page(at, page)
        _ok(at)
        assert "not built yet" in _texts(at), page


def test_no_warehouse_shows_how_to_build(empty_warehouse_dir: Path) -> None:
    at = _app().run()
    _ok(at)
    text = _texts(at) + "\n".join(c.value for c in at.code)
    assert "No warehouse has been published yet" in text
    assert "make demo" in text and "subops build" in text
    assert not at.metric


def test_empty_warehouse_file_shows_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A published file without marts (a build mid-way): notes everywhere, no traceback."""
    import duckdb

    duckdb.connect(str(tmp_path / "current.duckdb")).close()
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    at = _app().run()
    _ok(at)
    assert "not built yet" in _texts(at)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception and not at.error, (page, at.exception, at.error)


def test_a_mart_of_another_shape_is_an_error_note_not_a_traceback(
    warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    execute(
        copy_warehouse(warehouse_dir, tmp_path),
        "ALTER TABLE marts.retention_monthly DROP COLUMN nrr_t12",
    )
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    at = _app().run()
    at.switch_page("app_pages/customers.py").run()
    assert not at.exception, at.exception
    assert at.error and "nrr_t12" in at.error[0].value
