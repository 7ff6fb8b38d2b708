-- rule: R8. Accounts receivable aging as of the as-of date: the as-of month's row of the invoice ×
-- month-end balances (so it ties exactly to collections_monthly.ar_usd), one row per receivable invoice
-- with a non-zero open balance; bucket by days past due_date: current (not yet due), 1-30, 31-60,
-- 61-90, over_90.
select
    cast(b.invoice_id as {{ dbt.type_string() }}) as invoice_id,
    cast(b.account_id as {{ dbt.type_string() }}) as account_id,
    cast(b.invoice_date as date) as invoice_date,
    cast(b.due_date as date) as due_date,
    cast(b.open_amount as decimal(18, 2)) as open_amount,
    cast(b.currency as {{ dbt.type_string() }}) as currency,
    cast(b.open_usd as decimal(18, 2)) as open_usd,
    cast(b.days_past_due as {{ dbt.type_int() }}) as days_past_due,
    cast({{ aging_bucket('b.days_past_due') }} as {{ dbt.type_string() }}) as bucket,
    cast(i.last_payment_attempt_at as {{ dbt.type_timestamp() }}) as last_payment_attempt_at,
    cast(b.is_missing_fx_rate as boolean) as is_missing_fx_rate
from {{ ref('int_invoice_balances_monthly') }} as b
inner join {{ ref('int_issued_invoices_summarized') }} as i on b.invoice_id = i.invoice_id
where b.month = {{ month_start(as_of_date()) }}
