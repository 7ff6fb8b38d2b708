-- rule: R8. Issued invoices (billing system, latest version) dated on or before the as-of date, with
-- what was paid, refunded and credited to date and the open balance at the as-of date. Void invoices
-- are listed (is_void, open 0) but excluded from AR; credit invoices (total ≤ 0) are not receivables.
select
    cast(i.invoice_id as {{ dbt.type_string() }}) as invoice_id,
    cast(i.account_id as {{ dbt.type_string() }}) as account_id,
    cast(i.invoice_date as date) as invoice_date,
    cast(i.due_date as date) as due_date,
    cast(i.status as {{ dbt.type_string() }}) as status,
    cast(i.currency as {{ dbt.type_string() }}) as currency,
    cast({{ round_money('i.total') }} as decimal(18, 2)) as total,
    cast({{ round_money('i.paid_amount') }} as decimal(18, 2)) as paid_amount,
    cast({{ round_money('i.refunded_amount') }} as decimal(18, 2)) as refunded_amount,
    cast({{ round_money('i.credited_amount') }} as decimal(18, 2)) as credited_amount,
    cast({{ round_money('i.open_amount') }} as decimal(18, 2)) as open_amount,
    cast(i.total_usd as decimal(18, 2)) as total_usd,
    cast({{ to_reporting(round_money('i.open_amount'), 'fx') }} as decimal(18, 2)) as open_usd,
    cast({{ days_between('i.due_date', as_of_date()) }} as {{ dbt.type_int() }}) as days_past_due,
    cast(i.is_void as boolean) as is_void,
    cast(i.is_receivable as boolean) as is_receivable,
    cast(i.failed_attempts as {{ dbt.type_int() }}) as failed_attempts,
    cast(i.payment_attempts as {{ dbt.type_int() }}) as payment_attempts,
    cast(i.last_payment_attempt_at as {{ dbt.type_timestamp() }}) as last_payment_attempt_at,
    cast(i.last_payment_status as {{ dbt.type_string() }}) as last_payment_status,
    cast(i.is_missing_fx_rate or fx.units_per_usd is null as boolean) as is_missing_fx_rate
from {{ ref('int_issued_invoices_summarized') }} as i
{{ fx_join('fx', 'i.currency', as_of_date()) }}
