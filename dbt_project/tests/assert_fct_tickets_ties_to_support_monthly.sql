-- rule: R10 support. fct_tickets lists exactly the tickets support_monthly counts: per created month, its
-- tickets and rated tickets equal support_monthly's, and its SLA-met over SLA-measured tickets give
-- support_monthly's sla_met_rate exactly (round(met / measured, 6); NULL when none measured: the rate is
-- the only SLA figure support_monthly publishes); every month of fct_tickets is a support_monthly month
-- (months without tickets are 0 there). Returns the months that break.
with listed as (
    select
        created_month as month,
        count(*) as tickets,
        sum(case when sla_met then 1 else 0 end) as sla_met,
        sum(case when sla_met is not null then 1 else 0 end) as sla_measured,
        count(csat_score) as rated_tickets
    from {{ ref('fct_tickets') }}
    group by created_month
)

select
    coalesce(s.month, l.month) as month,
    s.tickets,
    l.tickets as listed_tickets,
    s.sla_met_rate,
    l.sla_met as listed_sla_met,
    l.sla_measured as listed_sla_measured
from {{ ref('support_monthly') }} as s
full outer join listed as l on s.month = l.month
where
    s.month is null
    or coalesce(l.tickets, 0) <> s.tickets
    or coalesce(l.rated_tickets, 0) <> s.rated_tickets
    or (l.sla_measured > 0 and s.sla_met_rate <> {{ div_round('l.sla_met', 'l.sla_measured', 6) }})
    or (coalesce(l.sla_measured, 0) = 0 and s.sla_met_rate is not null)
