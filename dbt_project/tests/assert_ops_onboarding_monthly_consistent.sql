-- rule: R10 onboarding. overdue is part of the backlog; go-lives per month add up to the live
-- implementations of the onboarding mart.
select
    'overdue_exceeds_backlog' as check_name,
    month,
    overdue as n
from {{ ref('onboarding_monthly') }}
where overdue > backlog

union all

select
    'went_live_total' as check_name,
    null as month,
    m.n
from (select sum(went_live) as n from {{ ref('onboarding_monthly') }}) as m
cross join (select count(go_live_date) as n from {{ ref('onboarding') }}) as o
where coalesce(m.n, 0) <> o.n
