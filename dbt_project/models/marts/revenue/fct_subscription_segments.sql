-- rule: R2 (R5 for mrr). One row per subscription segment [valid_from, valid_to).
select
    cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
    cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(contract_id as {{ dbt.type_string() }}) as contract_id,
    cast(plan_id as {{ dbt.type_string() }}) as plan_id,
    cast(charge_type as {{ dbt.type_string() }}) as charge_type,
    cast(product_family as {{ dbt.type_string() }}) as product_family,
    cast(billing_period_months as {{ dbt.type_int() }}) as billing_period_months,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(quantity as decimal(18, 4)) as quantity,
    cast(unit_price as decimal(18, 4)) as unit_price,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(anchor_date as date) as anchor_date,
    cast(mrr as {{ type_mrr() }}) as mrr
from {{ ref('int_subscription_segments_merged') }}
