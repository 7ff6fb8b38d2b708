-- rule: R10 approval cycle and segregation of duties. One row per approval request (submitted
-- contracts and purchase orders, submitted on or before the as-of date): cycle_hours = submitted →
-- approved (NULL while pending or when rejected); sod_breach = approved_by equals created_by /
-- requested_by, whatever the status. Amounts as recorded, in the record's currency.
select
    cast(approval_key as {{ dbt.type_string() }}) as approval_key,
    cast(kind as {{ dbt.type_string() }}) as kind,
    cast(record_id as {{ dbt.type_string() }}) as record_id,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(vendor_id as {{ dbt.type_string() }}) as vendor_id,
    cast(created_by as {{ dbt.type_string() }}) as created_by,
    cast(approved_by as {{ dbt.type_string() }}) as approved_by,
    cast(submitted_at as {{ dbt.type_timestamp() }}) as submitted_at,
    cast(approved_at as {{ dbt.type_timestamp() }}) as approved_at,
    cast(cycle_hours as decimal(18, 2)) as cycle_hours,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(is_pending as boolean) as is_pending,
    cast(sod_breach as boolean) as sod_breach,
    cast(amount as decimal(18, 4)) as amount,
    cast(currency as {{ dbt.type_string() }}) as currency
from {{ ref('int_approvals_unioned') }}
