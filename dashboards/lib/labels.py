"""Names of figures that appear on more than one page: one label, one number.

Revenue is recognized once (R4) but converted two ways: at each month's closing rate (R1; the
revenue figure of kpi_monthly and fct_revenue_schedule) and at each line's invoice-date rate (the
deferred revenue waterfall, so that its balances roll forward). Both are right; they are never
shown under the same name.
"""

from __future__ import annotations

#: kpi_monthly.revenue_usd / Σ fct_revenue_schedule.recognized_usd: month-end rates.
REVENUE = "Revenue (recognized)"
REVENUE_HELP = (
    "Recognized revenue in the month, credits included (R4), converted at the month-end rate "
    "(R1). The deferred revenue waterfall (Revenue page) converts each line at its invoice-date "
    "rate instead; the two differ by an FX difference."
)
#: deferred_revenue_monthly.recognized_usd: the waterfall's recognition, invoice-date rates.
RECOGNIZED_AT_INVOICE_RATES = "Recognized at invoice-date rates"
#: The waterfall's line that ties it to revenue (queries.WATERFALL_FX_DIFFERENCE_COLUMN).
FX_DIFFERENCE = "FX difference (to month-end rates)"
