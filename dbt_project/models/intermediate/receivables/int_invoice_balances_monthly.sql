-- rule: R8 receivables. Invoice × month-end open balance: for each receivable invoice (non-void,
-- total > 0), one row per month M from its invoice month while its open balance at D is non-zero,
-- D = month_snapshot_day(M) (the month's last day, or the as-of date in the as-of month).
-- Built from monthly deltas, never days: the total in the invoice month plus each settlement's
-- balance_change in the month of its effective date (max(event date, invoice date)), cumulated
-- over a month spine (integers + add_months) that runs per invoice to the month of its last event,
-- or to the as-of month while it is still open. Zero-balance months are dropped, so a settled invoice
-- stops at the month before it is settled. open_usd at D's rate (R1 balances at the month's end).
with invoices as (
    select *
    from {{ ref('int_issued_invoices_summarized') }}
    where is_receivable
),

deltas as (
    select
        invoice_id,
        {{ month_start('invoice_date') }} as month,
        total as balance_change
    from invoices

    union all

    select
        s.invoice_id,
        {{ month_start('s.effective_date') }} as month,
        s.balance_change
    from {{ ref('int_invoice_settlements_unioned') }} as s
    inner join invoices as i on s.invoice_id = i.invoice_id
    where s.balance_change <> 0
),

monthly_deltas as (
    select
        invoice_id,
        month,
        sum(balance_change) as balance_change
    from deltas
    group by invoice_id, month
),

bounds as (
    select
        i.invoice_id,
        {{ month_start('i.invoice_date') }} as first_month,
        case
            when i.open_amount <> 0 then {{ month_start(as_of_date()) }}
            else max(d.month)
        end as last_month
    from invoices as i
    inner join monthly_deltas as d on i.invoice_id = d.invoice_id
    group by i.invoice_id, i.invoice_date, i.open_amount
),

spine as (
    select
        b.invoice_id,
        {{ add_months('n.n', 'b.first_month') }} as month
    from bounds as b
    cross join {{ integers(10) }} as n
    where n.n <= {{ months_between('b.first_month', 'b.last_month') }}
),

cumulated as (
    select
        s.invoice_id,
        s.month,
        sum(coalesce(d.balance_change, 0)) over (
            partition by s.invoice_id order by s.month rows between unbounded preceding and current row
        ) as open_amount
    from spine as s
    left join monthly_deltas as d
        on s.invoice_id = d.invoice_id
            and s.month = d.month
),

balances as (
    select
        c.invoice_id,
        c.month,
        {{ month_snapshot_day('c.month') }} as balance_date,
        {{ round_money('c.open_amount') }} as open_amount
    from cumulated as c
    where c.open_amount <> 0
)

select
    b.invoice_id,
    b.month,
    b.balance_date,
    i.account_id,
    i.invoice_date,
    i.due_date,
    {{ days_between('i.due_date', 'b.balance_date') }} as days_past_due,
    b.open_amount,
    i.currency,
    {{ to_reporting('b.open_amount', 'fx') }} as open_usd,
    fx.units_per_usd is null as is_missing_fx_rate
from balances as b
inner join invoices as i on b.invoice_id = i.invoice_id
{{ fx_join('fx', 'i.currency', 'b.balance_date') }}
