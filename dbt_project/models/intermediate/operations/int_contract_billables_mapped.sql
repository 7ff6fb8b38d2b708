-- rule: R10 quote-to-cash. What a contract bills: the subscriptions whose events carry its contract_id
-- (billing from the earliest effective_date of such an event, so a renewal contract does not claim its
-- subscription's earlier lines) and the one-time charges that carry its contract_id (from their
-- milestone_date). One row per contract and billable (subscription_id or charge_id).
select
    contract_id,
    subscription_id,
    cast(null as {{ dbt.type_string() }}) as charge_id,
    min(effective_date) as billed_from
from {{ ref('int_subscription_events_screened') }}
where contract_id is not null
group by contract_id, subscription_id

union all

select
    contract_id,
    cast(null as {{ dbt.type_string() }}) as subscription_id,
    charge_id,
    min(milestone_date) as billed_from
from {{ ref('int_one_time_charges_screened') }}
where contract_id is not null
group by contract_id, charge_id
