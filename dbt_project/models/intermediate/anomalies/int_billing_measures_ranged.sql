-- rule: A2 expected range (docs/metrics.md). Each measure of an account-month against the same measure
-- of the account's own previous 12 months (its history; months without a row are absent): centre = median, spread = 1.4826 × MAD (median
-- absolute deviation, scaled to a standard deviation), both portable through the percentile macro.
-- expected_high = the largest of: median + max(5 × spread, 2.5 × median) (a month must exceed 3.5 times its
-- usual level and five robust deviations), 3.5 × the median of the last 3 months (a level reached and
-- kept is the new usual) and the seasonal bound below; a month whose account activated, changed or
-- resumed a subscription in it or the month before is explained (is_explained; not an anomaly); expected_low = max(0, median − 5 × spread) is shown, never flagged (drops are
-- contraction and churn, measured by the MRR bridge). invoice_total is only the yardstick of credit
-- notes and is never flagged. Credit notes are judged against the account's invoice_total months (their own history is too sparse; a usual refund or credit is a part of one invoice),
-- so a month's credits flag above twice the usual invoice month. Seasonality: with 24 or more
-- months since the account's first month of the measure, expected_high also covers 1.25 × the largest
-- value of the same calendar month
-- of earlier years (a yearly peak is not an anomaly). Fewer than 6 months of history: no range.
-- The statistics of each centre's history come from the macro billing_history_ranges (macros/anomalies.sql):
-- bounded work at any scale, one implementation per engine family, equal row for row.
with m as (
    select * from {{ ref('int_billing_measures_monthly') }}
),

history as (
    -- per judged account-month: history_months, median_value, recent_median, mad_value, same_month_max, first_month
    {{ billing_history_ranges('m') }}
),

explained as (
    -- account-months with a subscription activated, changed or resumed in the month or the month before:
    -- a new level of billing or usage that a recorded change explains
    select distinct
        e.account_id,
        cast({{ dbt.dateadd('month', 'k.n', month_start('e.effective_date')) }} as date) as month
    from {{ ref('int_subscription_events_screened') }} as e
    cross join (
        select 0 as n
        union all
        select 1 as n
    ) as k
    where e.event_type in ('activate', 'change', 'resume')
)

select
    m.account_id,
    m.month,
    m.measure,
    m.observed,
    m.row_ids,
    s.history_months,
    s.median_value,
    s.mad_value,
    {{ months_between('s.first_month', 'm.month') }} >= 24 as is_seasonal,
    cast(
        case
            when m.measure = 'credit_notes' then 0
            when s.median_value - 5 * 1.4826 * s.mad_value > 0 then s.median_value - 5 * 1.4826 * s.mad_value
            else 0
        end as decimal(18, 2)
    ) as expected_low,
    cast(
        greatest(
            s.median_value
            + case when 5 * 1.4826 * s.mad_value > 2.5 * s.median_value then 5 * 1.4826 * s.mad_value else 2.5 * s.median_value end,
            coalesce(s.recent_median, 0) * 3.5,
            case
                when {{ months_between('s.first_month', 'm.month') }} >= 24 and m.measure <> 'credit_notes'
                    then coalesce(s.same_month_max, 0) * 1.25
                else 0
            end
        ) as decimal(18, 2)
    ) as expected_high,
    coalesce(x.account_id is not null and m.measure <> 'credit_notes', false) as is_explained
from m
inner join history as s
    on m.account_id = s.account_id
        and m.measure = s.measure
        and m.month = s.month
left join explained as x
    on m.account_id = x.account_id
        and m.month = x.month
where s.history_months >= 6 and m.measure <> 'invoice_total'
