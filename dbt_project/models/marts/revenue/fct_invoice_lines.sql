-- rule: R3. Computed invoice lines dated on or before the as-of date (amount_usd at the line's date, R1).
-- Incremental (macros/incremental.sql): the lines of changed accounts and those dated in the window.
{{ incremental_fact('account_id', 'invoice_date') }}
select
    cast(invoice_line_key as {{ dbt.type_string() }}) as invoice_line_key,
    cast(invoice_key as {{ dbt.type_string() }}) as invoice_key,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
    cast(charge_id as {{ dbt.type_string() }}) as charge_id,
    cast(plan_id as {{ dbt.type_string() }}) as plan_id,
    cast(product_family as {{ dbt.type_string() }}) as product_family,
    cast(line_type as {{ dbt.type_string() }}) as line_type,
    cast(invoice_date as date) as invoice_date,
    cast(service_start as date) as service_start,
    cast(service_end as date) as service_end,
    cast(quantity as decimal(18, 4)) as quantity,
    cast(amount as decimal(18, 2)) as amount,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(amount_usd as decimal(18, 2)) as amount_usd,
    cast(is_missing_fx_rate as boolean) as is_missing_fx_rate
from {{ ref('int_invoice_lines_unioned') }}
where is_billed and invoice_date <= {{ as_of_date() }}
    and {{ changed_scope('account_id', 'invoice_date') }}
