-- rule: R4 waterfall. opening + billings − recognized + change in unbilled = closing, exactly, every
-- month; each opening is the previous closing; and the revenue of the waterfall equals the schedule's
-- (at historical rates, recognized to date).
with schedule as (
    select
        month,
        sum(recognized_hist_usd_to_date) as recognized_usd
    from {{ ref('int_revenue_schedule_split') }}
    where line_amount_usd is not null and month <= {{ month_start(as_of_date()) }}
    group by month
)

select
    d.month,
    'roll-forward' as failure
from {{ ref('deferred_revenue_monthly') }} as d
where d.opening_usd + d.billings_usd - d.recognized_usd + d.unbilled_change_usd <> d.closing_usd
union all
select
    d.month,
    'opening is not the previous closing' as failure
from {{ ref('deferred_revenue_monthly') }} as d
inner join {{ ref('deferred_revenue_monthly') }} as p on p.month = {{ add_months(-1, 'd.month') }}
where p.closing_usd <> d.opening_usd
union all
select
    d.month,
    'recognized differs from the schedule' as failure
from {{ ref('deferred_revenue_monthly') }} as d
left join schedule as s on d.month = s.month
where d.recognized_usd <> coalesce(s.recognized_usd, 0)
