-- rule: R10 onboarding. Per month from the first known implementation to the as-of month:
-- went_live = implementations with go_live_date in M; onboarding_days_p50 = median cycle_days of those;
-- backlog at M's end (the as-of date in the as-of month) = implementations known by then
-- (first_known_date ≤ end), not live by then and not cancelled by then (history inferred from the
-- latest version, see int_implementations_measured); overdue = in the backlog and
-- target_go_live_date before M's end.
with months as (
    select s.month
    from {{ month_spine(ref('int_implementations_measured'), month_start('first_known_date')) }} as s
),

month_ends as (
    select
        month,
        {{ month_snapshot_day('month') }} as month_end
    from months
),

went_live as (
    select
        {{ month_start('go_live_date') }} as month,
        count(*) as went_live,
        {{ median('cycle_days') }} as onboarding_days_p50
    from {{ ref('int_implementations_measured') }}
    where go_live_date is not null
    group by {{ month_start('go_live_date') }}
),

backlog as (
    select
        m.month,
        count(i.implementation_id) as backlog,
        sum(case when i.target_go_live_date < m.month_end then 1 else 0 end) as overdue
    from month_ends as m
    inner join {{ ref('int_implementations_measured') }} as i
        on i.first_known_date <= m.month_end
            and (i.live_from is null or i.live_from > m.month_end)
            and (i.cancelled_on is null or i.cancelled_on > m.month_end)
    group by m.month
)

select
    cast(m.month as date) as month,
    cast(coalesce(w.went_live, 0) as {{ dbt.type_bigint() }}) as went_live,
    cast(w.onboarding_days_p50 as decimal(18, 2)) as onboarding_days_p50,
    cast(coalesce(b.backlog, 0) as {{ dbt.type_bigint() }}) as backlog,
    cast(coalesce(b.overdue, 0) as {{ dbt.type_bigint() }}) as overdue
from month_ends as m
left join went_live as w on m.month = w.month
left join backlog as b on m.month = b.month
