-- rule: R10 onboarding. One row per implementation known on or before the as-of date, with its
-- contract's signed_at (stg_crm__contracts) and cycle_days = signed_at's date → go_live_date in days
-- (NULL when not live or no signed contract). Dates after the as-of date are not known yet: a
-- go_live_date or signed_at later than the as-of date counts as NULL.
-- The raw table keeps only the latest version of an implementation, so its history is inferred:
--   * first_known_date = kickoff_date, else the date of its latest update (a not-started project's
--     only version is its creation);
--   * live from go_live_date (a status live without a go_live_date: from its last update);
--   * cancelled from its last updated_at (a cancelled project's latest version is its cancellation).
-- is_overdue (as of the as-of date): not live, not cancelled, and the as-of date is past
-- target_go_live_date.
with implementations as (
    select
        i.implementation_id,
        i.account_id,
        i.contract_id,
        case when c.signed_at < {{ as_of_end_ts() }} then c.signed_at end as signed_at,
        i.kickoff_date,
        i.target_go_live_date,
        case when i.go_live_date <= {{ as_of_date() }} then i.go_live_date end as go_live_date,
        i.status,
        i.hours_logged,
        cast(i.updated_at as date) as updated_date,
        coalesce(i.kickoff_date, cast(i.updated_at as date)) as first_known_date
    from {{ ref('int_implementations_screened') }} as i
    left join {{ ref('stg_crm__contracts') }} as c on i.contract_id = c.contract_id
),

dated as (
    select
        *,
        coalesce(go_live_date, case when status = 'live' then updated_date end) as live_from,
        case when status = 'cancelled' then updated_date end as cancelled_on
    from implementations
    where first_known_date <= {{ as_of_date() }}
)

select
    implementation_id,
    account_id,
    contract_id,
    signed_at,
    kickoff_date,
    target_go_live_date,
    go_live_date,
    status,
    hours_logged,
    first_known_date,
    live_from,
    cancelled_on,
    case
        when signed_at is not null and go_live_date is not null
            then {{ days_between('cast(signed_at as date)', 'go_live_date') }}
    end as cycle_days,
    case
        when
            (live_from is null or live_from > {{ as_of_date() }})
            and (cancelled_on is null or cancelled_on > {{ as_of_date() }})
            and {{ as_of_date() }} > target_go_live_date
            then true
        else false
    end as is_overdue
from dated
