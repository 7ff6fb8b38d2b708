-- rule: R10 support. support_monthly accounts for every measured ticket exactly once (tickets, rated
-- tickets), and its rates stay fractions in [0, 1].
with totals as (
    select
        sum(tickets) as tickets,
        sum(rated_tickets) as rated_tickets
    from {{ ref('support_monthly') }}
),

expected as (
    select
        count(*) as tickets,
        count(csat_score) as rated_tickets
    from {{ ref('int_tickets_sla_measured') }}
)

select
    'totals' as check_name,
    t.tickets,
    e.tickets as expected_tickets
from totals as t
cross join expected as e
where coalesce(t.tickets, 0) <> e.tickets or coalesce(t.rated_tickets, 0) <> e.rated_tickets

union all

select
    'rate_out_of_range' as check_name,
    tickets,
    null as expected_tickets
from {{ ref('support_monthly') }}
where sla_met_rate < 0 or sla_met_rate > 1 or csat_avg < 1 or csat_avg > 5
