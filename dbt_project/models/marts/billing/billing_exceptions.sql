-- rule: R9. Billing exceptions: reconciliation keys (subscription or charge, period_start) where the
-- billing system's issued lines (non-void invoices) differ from the computed lines (R3), both dated on or
-- before the as-of date. Leakage in the month of period_start, converted at that month's snapshot day.
select
    cast(r.reconciliation_key as {{ dbt.type_string() }}) as exception_key,
    cast(r.exception_type as {{ dbt.type_string() }}) as exception_type,
    cast(r.account_id as {{ dbt.type_string() }}) as account_id,
    cast(r.subscription_id as {{ dbt.type_string() }}) as subscription_id,
    cast(r.charge_id as {{ dbt.type_string() }}) as charge_id,
    cast(r.period_start as date) as period_start,
    cast({{ month_start('r.period_start') }} as date) as month,
    cast(r.expected_amount as decimal(18, 2)) as expected_amount,
    cast(r.issued_amount as decimal(18, 2)) as issued_amount,
    cast(r.difference as decimal(18, 2)) as difference,
    cast(r.leakage as decimal(18, 2)) as leakage,
    cast(r.currency as {{ dbt.type_string() }}) as currency,
    cast({{ to_reporting('r.leakage', 'fx') }} as decimal(18, 2)) as leakage_usd,
    cast(fx.units_per_usd is null as boolean) as is_missing_fx_rate,
    cast(r.expected_lines as {{ dbt.type_int() }}) as expected_lines,
    cast(r.issued_lines as {{ dbt.type_int() }}) as issued_lines,
    cast(r.issued_invoice_ids as {{ dbt.type_string() }}) as issued_invoice_ids
from {{ ref('int_billing_lines_reconciled') }} as r
{{ fx_join('fx', 'r.currency', month_snapshot_day(month_start('r.period_start'))) }}
where r.exception_type is not null
