-- rule: R3. The lines of one account, invoice date and currency form one computed invoice.
-- amount_usd is the sum of its lines' amount_usd; NULL (and flagged) if a line has no FX rate.
select
    cast(invoice_key as {{ dbt.type_string() }}) as invoice_key,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(invoice_date as date) as invoice_date,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(sum(amount) as decimal(18, 2)) as amount,
    cast(
        case when count(amount_usd) = count(*) then sum(amount_usd) end as decimal(18, 2)
    ) as amount_usd,
    cast(count(*) as {{ dbt.type_bigint() }}) as line_count,
    cast(not coalesce(count(amount_usd) = count(*), false) as boolean) as is_missing_fx_rate
from {{ ref('fct_invoice_lines') }}
group by invoice_key, account_id, invoice_date, currency
