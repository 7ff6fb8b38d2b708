-- rule: R4 waterfall, reporting currency at each line's historical rate (its invoice date).
-- closing (deferred revenue) = opening + billings − recognized + unbilled_change, where
-- unbilled_change is the change in unbilled revenue (recognized before billed, usage); with no
-- unbilled revenue this is the plain opening + billings − recognized = closing.
-- R1 revenue by month is at the month's last-day rate (kpi_monthly.revenue_usd, Σ
-- fct_revenue_schedule.recognized_usd): the waterfall's recognized revenue at historical rates +
-- fx_translation_usd = revenue_usd, so the waterfall ties to the Overview's revenue. The FX line is
-- Σ per schedule row (month-end-rate share − historical-rate share); it also carries the share of
-- a line that has a rate on only one of the two days (counted in one total and not the other).
with schedule as (
    select
        month,
        sum(
            coalesce(recognized_usd_to_date, 0)
            - case when line_amount_usd is not null then recognized_hist_usd_to_date else 0 end
        ) as fx_translation_usd
    from {{ ref('int_revenue_schedule_split') }}
    where month <= {{ month_start(as_of_date()) }}
    group by month
),

revenue as (
    select
        month,
        sum(recognized_usd) as revenue_usd
    from {{ ref('fct_revenue_schedule') }}
    group by month
),

months as (
    select s.month
    from {{ month_spine(ref('int_deferred_revenue_rolled'), 'month') }} as s
    union
    select s.month
    from {{ month_spine(ref('fct_revenue_schedule'), 'month') }} as s
),

filled as (
    select
        m.month,
        coalesce(r.billings_usd, 0) as billings_usd,
        coalesce(r.recognized_usd, 0) as recognized_usd,
        coalesce(r.deferred_usd, 0) as closing_usd,
        coalesce(r.unbilled_usd, 0) as unbilled_usd,
        coalesce(s.fx_translation_usd, 0) as fx_translation_usd,
        coalesce(rv.revenue_usd, 0) as revenue_usd
    from months as m
    left join {{ ref('int_deferred_revenue_rolled') }} as r on m.month = r.month
    left join schedule as s on m.month = s.month
    left join revenue as rv on m.month = rv.month
)

select
    cast(f.month as date) as month,
    cast(coalesce(p.closing_usd, 0) as decimal(18, 2)) as opening_usd,
    cast(f.billings_usd as decimal(18, 2)) as billings_usd,
    cast(f.recognized_usd as decimal(18, 2)) as recognized_usd,
    cast(f.unbilled_usd - coalesce(p.unbilled_usd, 0) as decimal(18, 2)) as unbilled_change_usd,
    cast(f.closing_usd as decimal(18, 2)) as closing_usd,
    cast(f.unbilled_usd as decimal(18, 2)) as unbilled_usd,
    cast(f.recognized_usd as decimal(18, 2)) as recognized_at_historical_rate_usd,
    cast(f.fx_translation_usd as decimal(18, 2)) as fx_translation_usd,
    cast(f.revenue_usd as decimal(18, 2)) as revenue_usd
from filled as f
left join filled as p on p.month = {{ add_months(-1, 'f.month') }}
