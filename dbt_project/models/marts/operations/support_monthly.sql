-- rule: R10 support. Per ticket-created month, from the first ticket's month to the as-of month
-- (months without tickets kept, with 0 tickets and NULL medians/rates):
-- first-response and resolution hours medians (tickets answered / solved by the as-of time);
-- sla_met_rate = met / (met + missed), tickets still unanswered inside their target excluded
-- (int_tickets_sla_measured); csat_avg over rated tickets (1–5); tickets_per_account = tickets /
-- accounts with MRR > 0 at M's end (fct_mrr_monthly), NULL when there are none.
with months as (
    select s.month
    from {{ month_spine(ref('int_tickets_sla_measured'), 'created_month') }} as s
),

tickets as (
    select
        created_month as month,
        count(*) as tickets,
        {{ median('first_response_hours') }} as first_response_hours_p50,
        {{ median('resolution_hours') }} as resolution_hours_p50,
        sum(case when sla_met then 1 else 0 end) as sla_met,
        sum(case when sla_met is not null then 1 else 0 end) as sla_measured,
        sum(csat_score) as csat_sum,
        count(csat_score) as rated_tickets,
        count(distinct account_id) as accounts_with_tickets
    from {{ ref('int_tickets_sla_measured') }}
    group by created_month
),

paying as (
    select
        month,
        count(*) as paying_accounts
    from {{ ref('fct_mrr_monthly') }}
    where mrr > 0
    group by month
)

select
    cast(m.month as date) as month,
    cast(coalesce(t.tickets, 0) as {{ dbt.type_bigint() }}) as tickets,
    cast(t.first_response_hours_p50 as decimal(18, 2)) as first_response_hours_p50,
    cast(t.resolution_hours_p50 as decimal(18, 2)) as resolution_hours_p50,
    cast(case when t.sla_measured > 0 then {{ div_round('t.sla_met', 't.sla_measured', 6) }} end as decimal(18, 6)) as sla_met_rate,
    cast(case when t.rated_tickets > 0 then {{ div_round('t.csat_sum', 't.rated_tickets', 2) }} end as decimal(18, 2)) as csat_avg,
    cast(coalesce(t.rated_tickets, 0) as {{ dbt.type_bigint() }}) as rated_tickets,
    cast(coalesce(t.accounts_with_tickets, 0) as {{ dbt.type_bigint() }}) as accounts_with_tickets,
    cast(coalesce(p.paying_accounts, 0) as {{ dbt.type_bigint() }}) as paying_accounts,
    cast(
        case when p.paying_accounts > 0 then {{ div_round('coalesce(t.tickets, 0)', 'p.paying_accounts', 4) }} end as decimal(18, 4)
    ) as tickets_per_account
from months as m
left join tickets as t on m.month = t.month
left join paying as p on m.month = p.month
