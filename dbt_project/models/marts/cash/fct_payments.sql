-- rule: R8 receivables (payments), Q1. One row per payment of a known account (int_payments_screened)
-- attempted on or before the as-of date (UTC date of attempted_at): succeeded and failed attempts and
-- refunds (a refund is not an attempt: is_attempt false). amount_usd at the attempt's own date (R1),
-- NULL and flagged without a rate. counts_in_receivables: the row settles an issued, non-void invoice
-- dated on or before the as-of date, i.e. it is one of the settlements fct_issued_invoices and
-- collections_monthly count (int_invoice_settlements_unioned); the rest are listed, not counted.
with payments as (
    select *
    from {{ ref('int_payments_screened') }}
    where cast(attempted_at as date) <= {{ as_of_date() }}
),

counted as (
    select settlement_id as payment_id
    from {{ ref('int_invoice_settlements_unioned') }}
    where settlement_type = 'payment'
)

select
    cast(p.payment_id as {{ dbt.type_string() }}) as payment_id,
    cast(p.invoice_id as {{ dbt.type_string() }}) as invoice_id,
    cast(p.account_id as {{ dbt.type_string() }}) as account_id,
    cast(p.attempted_at as {{ dbt.type_timestamp() }}) as attempted_at,
    cast(p.status as {{ dbt.type_string() }}) as status,
    cast(p.status in ('succeeded', 'failed') as boolean) as is_attempt,
    cast(p.currency as {{ dbt.type_string() }}) as currency,
    cast(p.amount as decimal(18, 4)) as amount,
    cast({{ to_reporting('p.amount', 'fx') }} as decimal(18, 2)) as amount_usd,
    cast(fx.units_per_usd is null as boolean) as is_missing_fx_rate,
    cast(p.failure_reason as {{ dbt.type_string() }}) as failure_reason,
    cast(c.payment_id is not null as boolean) as counts_in_receivables
from payments as p
left join counted as c on p.payment_id = c.payment_id
{{ fx_join('fx', 'p.currency', 'cast(p.attempted_at as date)') }}
