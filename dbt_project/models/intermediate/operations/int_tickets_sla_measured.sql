-- rule: R10 support. One row per ticket created on or before the as-of date (UTC), not deleted, measured at the
-- as-of time (the end of the as-of date): first_response_hours = created → first_response_at,
-- resolution_hours = created → solved_at (seconds / 3600, decimal(18,2)); a response or solve stamped
-- after the as-of time is not known yet (NULL). SLA target by priority: urgent 1 h, high 4 h,
-- normal 24 h, low 72 h. sla_met: true when answered within the target (≤, so exactly 1 h is met),
-- false when answered later or still unanswered past the target at the as-of time, NULL (excluded
-- from the SLA rate) while unanswered and still inside the target.
with tickets as (
    select
        ticket_id,
        account_id,
        created_at,
        case when first_response_at < {{ as_of_end_ts() }} then first_response_at end as first_response_at,
        case when solved_at < {{ as_of_end_ts() }} then solved_at end as solved_at,
        priority,
        category,
        status,
        handle_minutes,
        csat_score,
        case priority
            when 'urgent' then 1
            when 'high' then 4
            when 'normal' then 24
            when 'low' then 72
        end as sla_target_hours
    from {{ ref('int_tickets_screened') }}
    where created_at < {{ as_of_end_ts() }} and is_deleted is not true
),

measured as (
    select
        *,
        {{ dbt.datediff('created_at', 'first_response_at', 'second') }} as first_response_seconds,
        {{ dbt.datediff('created_at', as_of_end_ts(), 'second') }} as open_seconds_at_as_of
    from tickets
)

select
    ticket_id,
    account_id,
    created_at,
    {{ month_start('created_at') }} as created_month,
    priority,
    category,
    status,
    first_response_at,
    solved_at,
    {{ hours_between('created_at', 'first_response_at') }} as first_response_hours,
    {{ hours_between('created_at', 'solved_at') }} as resolution_hours,
    sla_target_hours,
    case
        when sla_target_hours is null then null
        when first_response_at is not null then first_response_seconds <= sla_target_hours * 3600
        when open_seconds_at_as_of > sla_target_hours * 3600 then false
    end as sla_met,
    csat_score,
    handle_minutes
from measured
