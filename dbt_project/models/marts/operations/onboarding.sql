-- rule: R10 onboarding cycle time. One row per implementation known on or before the as-of date:
-- cycle_days = contract signed_at's date → go_live_date (NULL when not live or no signed contract);
-- is_overdue = not live, not cancelled and the as-of date past target_go_live_date.
select
    cast(implementation_id as {{ dbt.type_string() }}) as implementation_id,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(contract_id as {{ dbt.type_string() }}) as contract_id,
    cast(signed_at as {{ dbt.type_timestamp() }}) as signed_at,
    cast(kickoff_date as date) as kickoff_date,
    cast(target_go_live_date as date) as target_go_live_date,
    cast(go_live_date as date) as go_live_date,
    cast(cycle_days as {{ dbt.type_int() }}) as cycle_days,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(is_overdue as boolean) as is_overdue,
    cast(hours_logged as decimal(18, 4)) as hours_logged
from {{ ref('int_implementations_measured') }}
