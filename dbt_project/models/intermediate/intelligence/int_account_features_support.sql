-- rule: M1 renewal risk, support experience. Per observation (int_account_features_mrr), the
-- tickets created in the 90 days ending on the observation day (int_tickets_sla_measured): how many,
-- how many missed their first-response SLA as known that day (answered later than the target, or
-- still unanswered past it), and the CSAT of those solved by that day (rated; the raw table keeps a
-- ticket's latest version, so the rating is taken as given when the ticket was solved); and, for
-- the account's usual volume, the tickets created in the 275 days before those 90 (a year in all).
with windowed as (
    select
        o.account_id,
        o.month,
        case when t.created_at >= cast({{ add_days(-89, 'o.observed_at') }} as {{ dbt.type_timestamp() }}) then t.ticket_id end as ticket_id,
        case when t.created_at < cast({{ add_days(-89, 'o.observed_at') }} as {{ dbt.type_timestamp() }}) then t.ticket_id end as earlier_ticket_id,
        t.csat_score,
        case
            when t.created_at < cast({{ add_days(-89, 'o.observed_at') }} as {{ dbt.type_timestamp() }}) then null
            when t.first_response_at < cast({{ add_days(1, 'o.observed_at') }} as {{ dbt.type_timestamp() }})
                then {{ dbt.datediff('t.created_at', 't.first_response_at', 'second') }} > t.sla_target_hours * 3600
            else {{ dbt.datediff('t.created_at', 'cast(' ~ add_days(1, 'o.observed_at') ~ ' as ' ~ dbt.type_timestamp() ~ ')', 'second') }} > t.sla_target_hours * 3600
        end as is_sla_missed,
        t.created_at >= cast({{ add_days(-89, 'o.observed_at') }} as {{ dbt.type_timestamp() }})
        and t.solved_at < cast({{ add_days(1, 'o.observed_at') }} as {{ dbt.type_timestamp() }}) as is_solved
    from {{ ref('int_account_features_mrr') }} as o
    left join {{ ref('int_tickets_sla_measured') }} as t
        on o.account_id = t.account_id
            and t.created_at >= cast({{ add_days(-364, 'o.observed_at') }} as {{ dbt.type_timestamp() }})
            and t.created_at < cast({{ add_days(1, 'o.observed_at') }} as {{ dbt.type_timestamp() }})
)

select
    account_id,
    month,
    cast(count(ticket_id) as {{ dbt.type_int() }}) as tickets_90d,
    cast(count(earlier_ticket_id) as {{ dbt.type_int() }}) as tickets_prior_275d,
    cast(count(case when is_sla_missed then 1 end) as {{ dbt.type_int() }}) as sla_missed_90d,
    cast(count(case when is_solved then csat_score end) as {{ dbt.type_int() }}) as rated_tickets_90d,
    cast(sum(case when is_solved then csat_score end) as decimal(18, 4)) as csat_sum_90d
from windowed
group by account_id, month
