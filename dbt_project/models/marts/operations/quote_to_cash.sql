-- rule: R10 quote-to-cash. One row per closed_won opportunity (close_date on or before the as-of
-- date): close_date → its contract's signed_at (the contract carrying its opportunity_id, earliest
-- signed) → the first computed invoice date (fct_invoice_lines, dated on or before the as-of date) of
-- a line the contract bills: its subscriptions' lines dated from the contract's first event on them,
-- and its one-time charges' lines. Day counts are integers, NULL when a stage is missing.
with contract_lines as (
    select
        b.contract_id,
        l.invoice_date
    from {{ ref('int_contract_billables_mapped') }} as b
    inner join {{ ref('fct_invoice_lines') }} as l
        on b.subscription_id = l.subscription_id
            and l.invoice_date >= b.billed_from

    union all

    select
        b.contract_id,
        l.invoice_date
    from {{ ref('int_contract_billables_mapped') }} as b
    inner join {{ ref('fct_invoice_lines') }} as l
        on b.charge_id = l.charge_id
),

first_invoices as (
    select
        contract_id,
        min(invoice_date) as first_invoice_date
    from contract_lines
    group by contract_id
),

staged as (
    select
        o.opportunity_id,
        o.account_id,
        o.opportunity_type,
        o.close_date,
        o.amount,
        o.currency,
        o.contract_id,
        o.signed_at,
        cast(o.signed_at as date) as signed_date,
        f.first_invoice_date
    from {{ ref('int_opportunity_contracts_matched') }} as o
    left join first_invoices as f on o.contract_id = f.contract_id
)

select
    cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(opportunity_type as {{ dbt.type_string() }}) as opportunity_type,
    cast(close_date as date) as close_date,
    cast(amount as decimal(18, 4)) as amount,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(contract_id as {{ dbt.type_string() }}) as contract_id,
    cast(signed_at as {{ dbt.type_timestamp() }}) as signed_at,
    cast(first_invoice_date as date) as first_invoice_date,
    cast(case when signed_date is not null then {{ days_between('close_date', 'signed_date') }} end as {{ dbt.type_int() }}) as days_close_to_sign,
    cast(
        case when signed_date is not null and first_invoice_date is not null then {{ days_between('signed_date', 'first_invoice_date') }} end
        as {{ dbt.type_int() }}
    ) as days_sign_to_invoice,
    cast(
        case when first_invoice_date is not null then {{ days_between('close_date', 'first_invoice_date') }} end as {{ dbt.type_int() }}
    ) as days_close_to_invoice
from staged
