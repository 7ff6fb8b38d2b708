"""The Operations page on the warehouse the real pipeline built: it renders, its headline tiles
are the marts', the approval worklists are exactly the mart's flagged rows, filter values outside
their allow-lists never reach SQL, and every query of `queries_ops` runs on the build."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pipeline_warehouse
import pytest
from pipeline_warehouse import LATEST_FULL_MONTH, copy_warehouse, execute
from streamlit.testing.v1 import AppTest

from dashboards.lib import fmt, queries, queries_ops
from dashboards.lib.cache import REGISTRY

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
PAGE = "app_pages/operations.py"


def _sql(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    return pipeline_warehouse.rows(path, sql, params)


def _page(**params: str) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def _tiles_are_the_months(at: AppTest, warehouse: Path, month: dt.date, before: dt.date) -> None:
    """The tiles are the marts' rows of `month` (company-wide), deltas vs `before`'s."""
    tiles = {m.label: m for m in at.metric}
    onb = dict(
        ((m, (b, o, p50)))
        for m, b, o, p50 in _sql(
            warehouse,
            "SELECT month, backlog, overdue, onboarding_days_p50 FROM marts.onboarding_monthly",
        )
    )
    backlog, overdue, p50 = onb[month]
    assert tiles["Implementation backlog"].value == f"{backlog:,}"
    assert tiles["Implementation backlog"].proto.delta == f"{backlog - onb[before][0]:+,}"
    assert tiles["Overdue implementations"].value == f"{overdue:,}"
    assert tiles["Onboarding cycle, median"].value == ("n/a" if p50 is None else fmt.days(p50))
    sup = dict(
        (m, (rate, csat))
        for m, rate, csat in _sql(
            warehouse, "SELECT month, sla_met_rate, csat_avg FROM marts.support_monthly"
        )
    )
    rate, csat = sup[month]
    assert tiles["SLA met"].value == ("n/a" if rate is None else fmt.pct(rate))
    assert tiles["SLA met"].proto.delta == (fmt.delta_pp(rate, sup[before][0]) or "")
    assert tiles["CSAT"].value == ("n/a" if csat is None else f"{float(csat):.2f} / 5")
    appr = dict(
        (m, (int(p), int(s)))
        for m, p, s in _sql(
            warehouse,
            "SELECT month, sum(pending_at_month_end), sum(sod_breaches) "
            "FROM marts.approvals_monthly GROUP BY 1",
        )
    )
    assert tiles["Pending approvals"].value == f"{appr[month][0]:,}"
    assert tiles["Segregation-of-duties breaches"].value == f"{appr[month][1]:,}"
    want = f"vs {before:%b %Y}"
    assert all(m.proto.delta_description.startswith(want) for m in at.metric if m.proto.delta)


def test_page_renders_with_mart_tiles(warehouse: Path) -> None:
    at = _page()
    assert at.title[0].value == "Operations"
    _tiles_are_the_months(at, warehouse, LATEST_FULL_MONTH, dt.date(2026, 9, 1))
    assert any("segment and region filters don't apply" in c.value for c in at.caption)


def _segment(warehouse: Path) -> str:
    """A segment with some, but not all, of the open implementations."""
    rows = _sql(
        warehouse,
        "SELECT d.segment FROM marts.onboarding AS o JOIN marts.dim_accounts AS d "
        "USING (account_id) WHERE o.status NOT IN ('live', 'cancelled') AND d.segment IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*), 1",
    )
    assert rows, "the test company has no open implementation"
    return rows[0][0]


def test_a_segment_filters_the_implementations_not_the_tiles(warehouse: Path) -> None:
    segment = _segment(warehouse)
    at = _page(segment=segment)
    _tiles_are_the_months(at, warehouse, LATEST_FULL_MONTH, dt.date(2026, 9, 1))
    backlog = {
        r[0]
        for r in _sql(
            warehouse,
            "SELECT o.implementation_id FROM marts.onboarding AS o "
            "JOIN marts.dim_accounts AS d USING (account_id) "
            "WHERE o.status NOT IN ('live', 'cancelled') AND d.segment = ?",
            [segment],
        )
    }
    shown = next(d.value for d in at.dataframe if d.key == "backlog")
    assert set(shown["implementation_id"]) == backlog
    live = {
        r[0]
        for r in _sql(
            warehouse,
            "SELECT o.implementation_id FROM marts.onboarding AS o "
            "JOIN marts.dim_accounts AS d USING (account_id) "
            "WHERE d.segment = ? AND date_trunc('month', o.go_live_date) BETWEEN ? AND ?",
            [segment, dt.date(2025, 11, 1), LATEST_FULL_MONTH],
        )
    }
    tables = [d.value for d in at.dataframe if d.key == "went_live"]
    assert (set(tables[0]["implementation_id"]) if tables else set()) == live


def test_a_period_preset_and_a_click_on_a_go_live_month(warehouse: Path) -> None:
    at = _page(period="3m", cmp="yoy")
    _tiles_are_the_months(at, warehouse, LATEST_FULL_MONTH, dt.date(2025, 10, 1))
    assert "vs Oct 2025 (YoY)" in {m.proto.delta_description for m in at.metric}
    months = [dt.date(2026, 8, 1), dt.date(2026, 9, 1), LATEST_FULL_MONTH]
    by_month = next(d.value for d in at.dataframe if "went_live" in d.value.columns)
    assert len(by_month) == len(months)
    # click the month with the most go-lives: the list is its implementations, as many as the bar
    month, went_live = _sql(
        warehouse,
        "SELECT month, went_live FROM marts.onboarding_monthly WHERE month BETWEEN ? AND ? "
        "ORDER BY went_live DESC, month DESC LIMIT 1",
        [months[0], months[-1]],
    )[0]
    at.session_state["onboarding_chart"] = {
        "selection": {
            "points": [{"x": f"{month:%Y-%m-%d}", "curve_number": 0, "point_index": 0}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert at.selectbox(key="live_month").value == month
    tables = [d.value for d in at.dataframe if d.key == "went_live"]
    assert (len(tables[0]) if tables else 0) == went_live


def test_approval_lists_are_the_marts_rows(warehouse: Path) -> None:
    for which, flag in (("pending", "is_pending"), ("sod_breach", "sod_breach")):
        for kind in (None, *queries_ops.APPROVAL_KINDS):
            want = {
                r[0]
                for r in _sql(
                    warehouse,
                    f"SELECT approval_key FROM marts.approvals WHERE {flag} "
                    "AND (?::VARCHAR IS NULL OR kind = ?)",
                    [kind, kind],
                )
            }
            got = queries_ops.approval_list(warehouse, which, kind)
            assert {f"{k}|{r}" for k, r in zip(got["kind"], got["record_id"], strict=True)} == (
                want
            ), (which, kind)


@pytest.mark.parametrize("value", ["contract' OR '1'='1", "pending; DROP TABLE x; --", ""])
def test_malicious_filter_is_refused(warehouse: Path, value: str) -> None:
    with pytest.raises(queries.NotAllowedError):
        queries_ops.approval_list(warehouse, value)
    with pytest.raises(queries.NotAllowedError):
        queries_ops.approval_list(warehouse, "pending", value)
    # a segment or region reaches SQL only as a bound value: it matches no account
    assert queries_ops.implementation_backlog(warehouse, False, value, value).empty


def test_every_ops_query_runs_on_the_build(warehouse: Path) -> None:
    assert set(queries_ops.QUERIES) <= set(REGISTRY)
    calls = {"approval_list": ("sod_breach", "purchase_order"), "implementation_backlog": (True,)}
    built = set(queries.existing_tables(warehouse)["table_name"])
    for name, fn in queries_ops.QUERIES.items():
        if name == "tickets" and "fct_tickets" not in built:
            continue  # the ticket-level mart comes with Account 360 (test_ticket_drill_down)
        assert fn(warehouse, *calls.get(name, ())) is not None, name
    overdue = queries_ops.implementation_backlog(warehouse, True)
    assert overdue["is_overdue"].all()
    (n,) = _sql(warehouse, "SELECT count(*) FROM marts.onboarding WHERE is_overdue")[0]
    assert len(overdue) == n
    assert not queries_ops.support_trend(warehouse).empty


def test_empty_marts_are_explained(
    warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = copy_warehouse(warehouse_dir, tmp_path)
    execute(
        target,
        "DELETE FROM marts.onboarding_monthly",
        "DELETE FROM marts.support_monthly",
        "DELETE FROM marts.support_renewal_risk",
        "DELETE FROM marts.approvals",
    )
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    at = _page()
    notes = " ".join(i.body for i in at.info)
    for text in ("No implementations", "No support tickets", "No paying account-months"):
        assert text in notes, text
    assert "submitted for approval" in notes
    assert not at.metric


def test_ticket_drill_down(
    warehouse_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clicking a month of the SLA chart lists the tickets created in it (marts.fct_tickets,
    which comes with Account 360; a build without it says so instead)."""
    if "fct_tickets" not in queries.MARTS:
        pytest.skip("marts.fct_tickets is not a mart the dashboards read yet")
    target = copy_warehouse(warehouse_dir, tmp_path)
    built = _sql(
        target,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'marts' AND table_name = 'fct_tickets'",
    )[0][0]
    if not built:  # a stand-in with the source's columns, until the build publishes the mart
        execute(
            target, "CREATE TABLE marts.fct_tickets AS SELECT * FROM staging.stg_support__tickets"
        )
    monkeypatch.setenv("SUBOPS_WAREHOUSE_DIR", str(tmp_path))
    at = _page()
    month = dt.date(2026, 9, 1)
    at.session_state["sla_chart"] = {
        "selection": {
            "points": [{"x": f"{month:%Y-%m-%d}", "curve_number": 0, "point_index": 0}],
            "point_indices": [0],
            "box": [],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception and not at.error, (at.exception, at.error)
    (tickets,) = _sql(target, "SELECT tickets FROM marts.support_monthly WHERE month = ?", [month])[
        0
    ]
    shown = [d.value for d in at.dataframe if d.key == "tickets"]
    assert (len(shown[0]) if shown else 0) == tickets
