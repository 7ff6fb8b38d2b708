-- rule: R8. collections_monthly has every month from its first to the as-of month, no gaps, and every
-- invoice × month-end row's month is one of them (so AR is never dropped). Returns breaks.
with bounds as (
    select
        min(month) as first_month,
        max(month) as last_month,
        count(*) as months
    from {{ ref('collections_monthly') }}
)

select
    'spine' as check_name,
    b.last_month as month
from bounds as b
where b.last_month <> {{ month_start(as_of_date()) }}
    or b.months <> {{ months_between('b.first_month', 'b.last_month') }} + 1

union all

select distinct
    'orphan_balance' as check_name,
    r.month
from {{ ref('int_invoice_balances_monthly') }} as r
left join {{ ref('collections_monthly') }} as c on r.month = c.month
where c.month is null
