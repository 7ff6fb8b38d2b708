"""Global filters: the URL's parameters are parsed against the build's allow-lists (a bad or
malicious value is ignored with a note, never sent to SQL), held across pages, and written back
to the URL so a view can be shared."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib import filters, queries
from dashboards.lib.filters import Filters, Options

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
MONTHS = tuple(filters.add_months(dt.date(2024, 1, 1), i) for i in range(34))  # … Oct 2026
OPTS = Options(MONTHS, ("enterprise", "smb"), ("emea", "na"), ("analytics", "core"))
MALICIOUS = ("smb'; DROP TABLE marts.kpi_monthly; --", "../../etc/passwd", '" OR 1=1 --')


def test_defaults_are_the_last_twelve_full_months_month_over_month() -> None:
    parsed = filters.parse({}, OPTS)
    assert parsed.ignored == ()
    f = parsed.filters
    assert (f.start, f.end) == (dt.date(2025, 11, 1), dt.date(2026, 10, 1))
    assert f.compare_to(f.end) == dt.date(2026, 9, 1)
    assert f.dims() == (None, None, None)
    assert filters.to_params(f) == {}


@pytest.mark.parametrize(
    ("preset", "start"),
    [("3m", dt.date(2026, 8, 1)), ("ytd", dt.date(2026, 1, 1)), ("all", dt.date(2024, 1, 1))],
)
def test_presets_end_at_the_latest_full_month(preset: str, start: dt.date) -> None:
    f = filters.parse({"period": preset}, OPTS).filters
    assert (f.start, f.end) == (start, dt.date(2026, 10, 1))


def test_a_shared_url_round_trips() -> None:
    params = {
        "period": "custom",
        "from": "2025-02",
        "to": "2025-07",
        "cmp": "yoy",
        "segment": "smb",
        "region": "emea",
        "family": "core",
    }
    f = filters.parse(params, OPTS).filters
    assert (f.start, f.end, f.comparison_label) == (dt.date(2025, 2, 1), dt.date(2025, 7, 1), "YoY")
    assert f.compare_to(f.end) == dt.date(2024, 7, 1)
    assert f.dims() == ("smb", "emea", "core")
    assert filters.to_params(f) == params
    assert filters.parse(filters.to_params(f), OPTS).filters == f


@pytest.mark.parametrize("bad", MALICIOUS)
def test_values_off_the_allow_lists_are_ignored_with_a_reason(bad: str) -> None:
    params = {"segment": bad, "region": bad, "family": bad, "period": bad, "cmp": bad}
    parsed = filters.parse({**params, "from": bad}, OPTS)
    assert parsed.filters == Filters(start=dt.date(2025, 11, 1), end=dt.date(2026, 10, 1))
    assert len(parsed.ignored) == 5
    assert all(bad in note for note in parsed.ignored)


def test_a_custom_range_is_clamped_and_ordered() -> None:
    parsed = filters.parse({"period": "custom", "from": "2026-05", "to": "2019-01"}, OPTS)
    f = parsed.filters
    assert (f.start, f.end) == (dt.date(2026, 5, 1), dt.date(2026, 10, 1))
    assert any("to=" in note for note in parsed.ignored)


def _app(**params: str) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception and not at.error, (at.exception, at.error)


def test_the_url_seeds_the_sidebar_and_survives_page_changes(warehouse: Path) -> None:
    opts = queries.filter_options(warehouse)
    segment = sorted(opts.loc[opts["kind"] == "segment", "value"])[0]
    at = _app(period="ytd", cmp="yoy", segment=segment).run()
    _ok(at)
    assert at.selectbox(key="f_period").value == "ytd"
    assert at.selectbox(key="f_segment").value == segment
    assert at.query_params["segment"] == [segment] or at.query_params["segment"] == segment
    at.switch_page("app_pages/cash.py").run()
    _ok(at)
    assert at.selectbox(key="f_segment").value == segment
    at.selectbox(key="f_region").set_value(at.selectbox(key="f_region").options[1]).run()
    _ok(at)
    assert "region" in at.query_params


@pytest.mark.parametrize("bad", MALICIOUS[:2])
def test_a_malicious_link_shows_a_note_and_the_defaults(warehouse: Path, bad: str) -> None:
    at = _app(segment=bad, family=bad).run()
    _ok(at)
    assert at.selectbox(key="f_segment").value == "All"
    notes = " ".join(w.value for w in at.warning)
    assert "ignored" in notes and "segment" in notes
    assert "segment" not in at.query_params
    kpi = queries.read(warehouse, "SELECT count(*) AS n FROM marts.kpi_monthly")
    assert int(kpi["n"].iloc[0]) > 0  # nothing was executed from the link


def test_overview_compares_with_the_chosen_period(warehouse: Path) -> None:
    """Year over year: the tiles of the period's last month carry deltas against the same month
    a year earlier, both read from kpi_monthly."""
    at = _app(period="custom", **{"from": "2025-01", "to": "2026-06"}, cmp="yoy").run()
    _ok(at)
    kpi = queries.kpis_by_month(warehouse).set_index("month")
    now, then = kpi.loc[dt.date(2026, 6, 1)], kpi.loc[dt.date(2025, 6, 1)]
    tiles = {m.label: m for m in at.metric}
    assert tiles["Active accounts"].value == f"{int(now['active_accounts']):,}"
    delta = int(now["active_accounts"]) - int(then["active_accounts"])
    assert tiles["Active accounts"].proto.delta == f"{delta:+,}"
    assert "vs Jun 2025 (YoY)" in tiles["MRR"].proto.delta_description
    assert "June 2026 at a glance" in " ".join(s.value for s in at.subheader)
