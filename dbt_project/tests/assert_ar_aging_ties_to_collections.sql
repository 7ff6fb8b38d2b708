-- rule: R8. AR ties exactly: Σ ar_aging.open_usd = collections_monthly.ar_usd of the as-of month, and
-- per currency Σ ar_aging.open_amount = the as-of month's invoice × month-end rows = the open balances of
-- fct_issued_invoices (computed per invoice, independently of the monthly cumulation). Returns breaks.
with aging_usd as (
    select coalesce(sum(open_usd), 0) as ar_usd
    from {{ ref('ar_aging') }}
),

collections_usd as (
    select ar_usd
    from {{ ref('collections_monthly') }}
    where month = {{ month_start(as_of_date()) }}
),

aging as (
    select
        currency,
        sum(open_amount) as open_amount
    from {{ ref('ar_aging') }}
    group by currency
),

month_end as (
    select
        currency,
        sum(open_amount) as open_amount
    from {{ ref('int_invoice_balances_monthly') }}
    where month = {{ month_start(as_of_date()) }}
    group by currency
),

invoices as (
    select
        currency,
        sum(open_amount) as open_amount
    from {{ ref('fct_issued_invoices') }}
    where open_amount <> 0
    group by currency
),

currencies as (
    select currency from aging
    union
    select currency from month_end
    union
    select currency from invoices
)

select
    'usd' as check_name,
    cast(null as {{ dbt.type_string() }}) as currency,
    a.ar_usd as aging_amount,
    c.ar_usd as other_amount
from aging_usd as a
left join collections_usd as c on 1 = 1
where (c.ar_usd is null and a.ar_usd <> 0) or a.ar_usd <> c.ar_usd

union all

select
    'currency' as check_name,
    cu.currency,
    coalesce(a.open_amount, 0) as aging_amount,
    coalesce(m.open_amount, 0) as other_amount
from currencies as cu
left join aging as a on cu.currency = a.currency
left join month_end as m on cu.currency = m.currency
left join invoices as i on cu.currency = i.currency
where coalesce(a.open_amount, 0) <> coalesce(m.open_amount, 0)
    or coalesce(a.open_amount, 0) <> coalesce(i.open_amount, 0)
