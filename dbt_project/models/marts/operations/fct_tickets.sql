-- rule: R10 support. One row per support ticket of a known account created on or before the as-of date,
-- not deleted: exactly the tickets support_monthly aggregates (int_tickets_sla_measured), with the same
-- measures at the as-of time — first-response and resolution hours (NULL until answered / solved by
-- then), the SLA target of the priority and sla_met (NULL while unanswered inside the target), CSAT and
-- handle minutes. A singular test ties its monthly counts to support_monthly.
select
    cast(ticket_id as {{ dbt.type_string() }}) as ticket_id,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
    cast(created_month as date) as created_month,
    cast(priority as {{ dbt.type_string() }}) as priority,
    cast(category as {{ dbt.type_string() }}) as category,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(first_response_at as {{ dbt.type_timestamp() }}) as first_response_at,
    cast(solved_at as {{ dbt.type_timestamp() }}) as solved_at,
    cast(first_response_hours as decimal(18, 2)) as first_response_hours,
    cast(resolution_hours as decimal(18, 2)) as resolution_hours,
    cast(sla_target_hours as {{ dbt.type_int() }}) as sla_target_hours,
    cast(sla_met as boolean) as sla_met,
    cast(csat_score as {{ dbt.type_int() }}) as csat_score,
    cast(handle_minutes as decimal(18, 4)) as handle_minutes
from {{ ref('int_tickets_sla_measured') }}
