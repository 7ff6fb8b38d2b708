"""Display formatting and chart builders: exact money text in the reporting currency, tile
deltas, the tiles' month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from dashboards.lib import charts, fmt, ui

USD, EUR = fmt.currency("USD"), fmt.currency("eur")


def test_money_formats() -> None:
    assert fmt.money(Decimal("1234567.891"), USD) == "$1,234,567.89"
    assert fmt.money(Decimal("-1234.5"), USD) == "-$1,234.50"
    assert fmt.money(Decimal("0.005"), USD) == "$0.01"  # Decimal's rounding, no float artefact
    assert fmt.money(None, USD) == fmt.DASH and fmt.money(float("nan"), USD) == fmt.DASH
    assert fmt.money_short(Decimal("1234567"), USD) == "$1.23M"
    assert fmt.money_short(Decimal("62804.59"), USD) == "$62.8K"
    assert fmt.money_short(Decimal("950"), USD) == "$950"
    assert fmt.money_short(Decimal("408"), USD, signed=True) == "+$408"
    assert fmt.money_short(Decimal("-2240"), USD, signed=True) == "-$2.24K"


def test_money_in_other_reporting_currencies() -> None:
    gbp, jpy, chf = fmt.currency("GBP"), fmt.currency("JPY"), fmt.currency("CHF")
    assert fmt.money(Decimal("-1234.5"), EUR) == "-€1,234.50"
    assert fmt.money_short(Decimal("1234567"), EUR) == "€1.23M"
    assert fmt.money(Decimal("99.5"), gbp) == "£99.50"
    assert fmt.money(Decimal("123456.5"), jpy) == "¥123,457"  # no minor units
    assert fmt.money(Decimal("10"), chf) == "CHF 10.00"  # no symbol: the code
    assert fmt.money_short(Decimal("-2240"), chf, signed=True) == "-CHF 2.24K"
    assert fmt.delta_money(Decimal("62804.59"), Decimal("62349.82"), EUR) == "+€455"
    assert (EUR.label, chf.label, fmt.currency(None).label) == (
        "(EUR)",
        "(CHF)",
        "(reporting currency)",
    )
    assert (USD.column_format, EUR.column_format, chf.column_format) == (
        "dollar",
        "euro",
        "CHF %,.2f",
    )
    assert ui.heading("current_mrr_usd", EUR) == "Current MRR (EUR)"
    assert ui.heading("account_id", EUR) == "Account ID"


def test_flat_deltas_in_any_unit() -> None:
    flat = ("+$0", "€0", "CHF 0", "0.0 pp", "+0.0 d", "-¥0")
    moving = ("+$10", "€0.5K", "+€1.02K", "0.4 pp", "-CHF 20")
    assert all(ui.FLAT_DELTA.fullmatch(d) for d in flat)
    assert not any(ui.FLAT_DELTA.fullmatch(d) for d in moving)


def test_deltas_and_rates() -> None:
    assert fmt.delta_money(Decimal("62804.59"), Decimal("62349.82"), USD) == "+$455"
    assert fmt.delta_money(Decimal(1), None, USD) is None
    assert fmt.pct(0.9213) == "92.1%"
    assert fmt.delta_pp(0.731, 0.728) == "+0.3 pp"
    assert fmt.delta_pp(0.5, 0.5) == "0.0 pp"


def test_latest_full_month() -> None:
    months = [dt.date(2026, m, 1) for m in (9, 10, 11)]
    assert fmt.latest_full_month(months, dt.date(2026, 11, 20)) == dt.date(2026, 10, 1)
    assert fmt.latest_full_month(months, dt.date(2026, 11, 30)) == dt.date(2026, 11, 1)
    assert fmt.latest_full_month(months, None) == dt.date(2026, 11, 1)
    assert fmt.latest_full_month(months, dt.date(2026, 9, 2)) is None
    assert fmt.month_label(dt.date(2026, 10, 1)) == "October 2026"


def test_waterfall_closes_and_floats_only_at_the_edge() -> None:
    row = pd.Series(
        {
            "month": dt.date(2026, 10, 1),
            "opening_mrr_usd": Decimal("62349.82"),
            "new_usd": Decimal("0.00"),
            "reactivation_usd": Decimal("0.00"),
            "expansion_usd": Decimal("866.75"),
            "contraction_usd": Decimal("-458.96"),
            "churn_usd": Decimal("0.00"),
            "fx_usd": Decimal("46.98"),
            "closing_mrr_usd": Decimal("62804.59"),
        }
    )
    fig = charts.mrr_waterfall(row, USD)
    trace = fig.data[0]
    assert isinstance(fig, go.Figure) and trace.type == "waterfall"
    assert abs(sum(trace.y[:-1]) - trace.y[-1]) < 1e-6
    assert trace.text[0] == "$62.3K" and trace.text[3] == "+$867"
    assert fig.layout.yaxis.range[0] > 0  # zoomed onto the movements
    eur = charts.mrr_waterfall(row, EUR)
    assert eur.data[0].text[0] == "€62.3K" and eur.layout.yaxis.tickprefix == "€"
    assert "$" not in eur.to_json() and "(EUR)" in eur.layout.title.text


def test_empty_and_missing_values_plot() -> None:
    df = pd.DataFrame({"month": [dt.date(2026, 1, 1)], "nrr_t12": [None], "grr_t12": [None]})
    fig = charts.rate_lines(df, (("nrr_t12", "NRR", charts.NAVY),), "t")
    assert len(fig.data) == 1
    assert isinstance(charts.empty("nothing"), go.Figure)
