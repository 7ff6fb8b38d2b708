"""R4 as-of month recognized to date: the dev company built as of a mid-month day (2025-01-20).

Ratable lines (recurring, proration) recognize in the as-of month only the days of service up to and
including the as-of date; the full schedule (int_revenue_schedule_split) still sums to each line,
and deferred revenue at the as-of month's end = billed to date − recognized to date."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from dbt_helpers import dbt_build, make_dev_db, q

pytestmark = pytest.mark.slow

AS_OF = "2025-01-20"
S2 = "S2|recurring|charge|2025-01-15"


@pytest.fixture(scope="module")
def warehouse_mid_month(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("dbt_build_mid_month")
    db = make_dev_db().build_dev_db(tmp / "dev.duckdb")
    dbt_build(db, tmp, AS_OF, unit_tests=False)
    return db


def test_r4_as_of_month_recognized_to_date(warehouse_mid_month):
    db = warehouse_mid_month
    # worked example 1 ($31 monthly from 2025-01-15) as of 2025-01-20: 6 of 31 days → 6.00
    assert q(
        db,
        """select cast(month as varchar), recognized, recognized_usd from marts.fct_revenue_schedule
           where invoice_line_key = ? order by month""",
        S2,
    ) == [("2025-01-01", Decimal("6.00"), Decimal("6.00"))]
    # the full schedule is untouched: 17.00 + 14.00 = 31.00, so a later build adds the rest
    assert q(
        db,
        """select cast(month as varchar), recognized from intermediate.int_revenue_schedule_split
           where invoice_line_key = ? order by month""",
        S2,
    ) == [("2025-01-01", Decimal("17.00")), ("2025-02-01", Decimal("14.00"))]
    # nothing of the as-of month is recognized past the as-of day: every ratable line's January
    # share is its exact split with cum counted to 2025-01-20
    over = q(
        db,
        """select s.invoice_line_key
           from marts.fct_revenue_schedule as s
           inner join marts.fct_invoice_lines as l on s.invoice_line_key = l.invoice_line_key
           where s.line_type in ('recurring', 'proration') and s.month = date '2025-01-01'
             and s.recognized <> round(l.amount * (date '2025-01-21' - l.service_start)
                                       / (l.service_end - l.service_start), 2)""",
    )
    assert over == []


def test_r4_deferred_at_as_of_is_billed_minus_recognized_to_date(warehouse_mid_month):
    db = warehouse_mid_month
    billed, recognized = q(
        db,
        """select sum(case when is_billed and invoice_date <= date '2025-01-20'
                           and month = date_trunc('month', invoice_date)
                      then line_amount_usd else 0 end),
                  sum(case when month <= date '2025-01-01' then recognized_hist_usd_to_date end)
           from intermediate.int_revenue_schedule_split
           where line_amount_usd is not null""",
    )[0]
    [(closing, unbilled, rec)] = q(
        db,
        """select closing_usd, unbilled_usd, recognized_usd from marts.deferred_revenue_monthly
           where month = date '2025-01-01'""",
    )
    assert rec == recognized
    assert closing - unbilled == billed - recognized
    # S2 alone: 31.00 billed, 6.00 recognized → 25.00 deferred
    assert q(
        db,
        """select max(line_amount_usd) - sum(recognized_hist_usd_to_date)
           from intermediate.int_revenue_schedule_split where invoice_line_key = ?""",
        S2,
    ) == [(Decimal("25.00"),)]
