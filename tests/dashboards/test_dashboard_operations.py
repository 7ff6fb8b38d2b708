"""The Operations page on the warehouse the real pipeline built: it renders, its headline tiles
are the marts', the approval worklists are exactly the mart's flagged rows, filter values outside
their allow-lists never reach SQL, and every query of `queries_ops` runs on the build."""

from __future__ import annotations

from pathlib import Path

import pipeline_warehouse
import pytest
from pipeline_warehouse import copy_warehouse, execute
from streamlit.testing.v1 import AppTest

from dashboards.lib import fmt, queries, queries_ops
from dashboards.lib.cache import REGISTRY

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
PAGE = "app_pages/operations.py"


def _sql(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    return pipeline_warehouse.rows(path, sql, params)


def _page() -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    return at


def test_page_renders_with_mart_tiles(warehouse: Path) -> None:
    at = _page()
    assert at.title[0].value == "Operations"
    tiles = {m.label: m.value for m in at.metric}
    backlog, overdue = _sql(
        warehouse, "SELECT backlog, overdue FROM marts.onboarding_monthly ORDER BY month DESC"
    )[0]
    assert tiles["Implementation backlog"] == f"{backlog:,}"
    assert tiles["Overdue implementations"] == f"{overdue:,}"
    (pending,) = _sql(
        warehouse,
        "SELECT sum(pending_at_month_end) FROM marts.approvals_monthly "
        "WHERE month = (SELECT max(month) FROM marts.approvals_monthly)",
    )[0]
    assert tiles["Pending approvals"] == f"{int(pending):,}"
    (breaches,) = _sql(warehouse, "SELECT count(*) FROM marts.approvals WHERE sod_breach")[0]
    assert tiles["Segregation-of-duties breaches"] == f"{breaches:,}"
    sla = [k for k in tiles if k.startswith("SLA met (")]
    assert len(sla) == 1
    label = sla[0][len("SLA met (") : -1]
    rows = _sql(warehouse, "SELECT month, sla_met_rate, csat_avg FROM marts.support_monthly")
    _month, rate, csat = next(r for r in rows if fmt.month_label(r[0], short=True) == label)
    assert tiles[sla[0]] == ("n/a" if rate is None else fmt.pct(rate))
    assert tiles[f"CSAT ({label})"] == ("n/a" if csat is None else f"{float(csat):.2f} / 5")
    cycle = dict(_sql(warehouse, "SELECT month, onboarding_days_p50 FROM marts.onboarding_monthly"))
    (tile,) = [k for k in tiles if k.startswith("Onboarding cycle, median (")]
    (p50,) = [v for m, v in cycle.items() if fmt.month_label(m, short=True) in tile]
    assert tiles[tile] == ("n/a" if p50 is None else fmt.days(p50))


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


def test_every_ops_query_runs_on_the_build(warehouse: Path) -> None:
    assert set(queries_ops.QUERIES) <= set(REGISTRY)
    calls = {"approval_list": ("sod_breach", "purchase_order"), "implementation_backlog": (True,)}
    for name, fn in queries_ops.QUERIES.items():
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
