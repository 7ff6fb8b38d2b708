-- rule: R1 exact split. Every schedule (full, all months) sums exactly to its line, in the line's
-- currency and in the reporting currency at the historical rate.
select
    invoice_line_key,
    max(line_amount) as line_amount,
    sum(recognized) as scheduled
from {{ ref('int_revenue_schedule_split') }}
group by invoice_line_key
having sum(recognized) <> max(line_amount)
    or sum(recognized_hist_usd) <> max(line_amount_usd)
