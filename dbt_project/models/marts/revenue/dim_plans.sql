-- rule: R2 R3 price book. One row per plan (deleted plans kept and flagged): the list price an event
-- without a price takes (R2), billing period and included usage units (R3).
select
    cast(plan_id as {{ dbt.type_string() }}) as plan_id,
    cast(product_id as {{ dbt.type_string() }}) as product_id,
    cast(product_name as {{ dbt.type_string() }}) as product_name,
    cast(product_family as {{ dbt.type_string() }}) as product_family,
    cast(charge_type as {{ dbt.type_string() }}) as charge_type,
    cast(billing_period_months as {{ dbt.type_int() }}) as billing_period_months,
    cast(unit_price as decimal(18, 4)) as unit_price,
    cast(coalesce(included_units, 0) as decimal(18, 4)) as included_units,
    cast(usage_metric as {{ dbt.type_string() }}) as usage_metric,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(active as boolean) as active,
    cast(is_deleted as boolean) as is_deleted
from {{ ref('stg_billing__plans') }}
