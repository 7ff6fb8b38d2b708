-- rules: R1 R4. One label, one number: the deferred revenue waterfall's recognized revenue (at the
-- lines' historical rates) + its FX translation line = revenue at the month's rate, which is
-- kpi_monthly.revenue_usd (the Overview) and Σ fct_revenue_schedule.recognized_usd, every month.
with schedule as (
    select
        month,
        sum(recognized_usd) as revenue_usd
    from {{ ref('fct_revenue_schedule') }}
    group by month
)

select
    coalesce(d.month, k.month) as month,
    'waterfall + fx does not reach revenue' as failure
from {{ ref('deferred_revenue_monthly') }} as d
full outer join {{ ref('kpi_monthly') }} as k on d.month = k.month
where d.recognized_at_historical_rate_usd + d.fx_translation_usd <> d.revenue_usd
    or d.recognized_at_historical_rate_usd <> d.recognized_usd
    or coalesce(d.revenue_usd, 0) <> coalesce(k.revenue_usd, 0)
union all
select
    s.month,
    'revenue differs from the schedule' as failure
from schedule as s
left join {{ ref('deferred_revenue_monthly') }} as d on s.month = d.month
where coalesce(d.revenue_usd, 0) <> coalesce(s.revenue_usd, 0)
