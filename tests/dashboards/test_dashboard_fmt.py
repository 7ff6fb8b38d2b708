"""Display formatting and chart builders: exact money text, tile deltas, the tiles' month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from dashboards.lib import charts, fmt


def test_money_formats() -> None:
    assert fmt.money(Decimal("1234567.891")) == "$1,234,567.89"
    assert fmt.money(Decimal("-1234.5")) == "-$1,234.50"
    assert fmt.money(Decimal("0.005")) == "$0.01"  # Decimal's own rounding, no float artefact
    assert fmt.money(None) == fmt.DASH and fmt.money(float("nan")) == fmt.DASH
    assert fmt.money_short(Decimal("1234567")) == "$1.23M"
    assert fmt.money_short(Decimal("62804.59")) == "$62.8K"
    assert fmt.money_short(Decimal("950")) == "$950"
    assert fmt.money_short(Decimal("408"), signed=True) == "+$408"
    assert fmt.money_short(Decimal("-2240"), signed=True) == "-$2.24K"


def test_deltas_and_rates() -> None:
    assert fmt.delta_money(Decimal("62804.59"), Decimal("62349.82")) == "+$455"
    assert fmt.delta_money(Decimal(1), None) is None
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
    fig = charts.mrr_waterfall(row)
    trace = fig.data[0]
    assert isinstance(fig, go.Figure) and trace.type == "waterfall"
    assert abs(sum(trace.y[:-1]) - trace.y[-1]) < 1e-6
    assert trace.text[0] == "$62.3K" and trace.text[3] == "+$867"
    assert fig.layout.yaxis.range[0] > 0  # zoomed onto the movements


def test_empty_and_missing_values_plot() -> None:
    df = pd.DataFrame({"month": [dt.date(2026, 1, 1)], "nrr_t12": [None], "grr_t12": [None]})
    fig = charts.rate_lines(df, (("nrr_t12", "NRR", charts.NAVY),), "t")
    assert len(fig.data) == 1
    assert isinstance(charts.empty("nothing"), go.Figure)
