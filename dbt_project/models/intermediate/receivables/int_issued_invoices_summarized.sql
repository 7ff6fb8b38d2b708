-- rule: R8 receivables. One row per issued invoice dated on or before the as-of date (latest version,
-- void included and flagged): what was paid (succeeded), refunded and credited on it to date, failed
-- attempts, the last payment attempt (succeeded or failed; a refund is not an attempt; ties → succeeded),
-- and the open balance at the as-of date = total − paid + refunded − credited (R8).
-- Decisions: void → open 0 and no settlements (excluded everywhere). A credit invoice (total ≤ 0, issued
-- as paid by the billing system, never collected) is not a receivable: open 0 (is_receivable false),
-- else its negative total would stay "open" forever and net against real AR. uncollectible invoices
-- stay receivables (no write-off event exists in the sources). total_usd at the invoice date (R1).
with invoices as (
    select *
    from {{ ref('int_invoices_screened') }}
    where invoice_date <= {{ as_of_date() }}
),

settlements as (
    select *
    from {{ ref('int_invoice_settlements_unioned') }}
    where not is_account_credit
),

summed as (
    select
        invoice_id,
        sum(case when status = 'succeeded' then amount else 0 end) as paid_amount,
        sum(case when status = 'refunded' then amount else 0 end) as refunded_amount,
        sum(case when status = 'credited' then amount else 0 end) as credited_amount,
        sum(balance_change) as balance_change,
        sum(case when status = 'failed' then 1 else 0 end) as failed_attempts,
        sum(case when status in ('succeeded', 'failed') then 1 else 0 end) as payment_attempts,
        max(case when status in ('succeeded', 'failed') then event_at end) as last_payment_attempt_at
    from settlements
    group by invoice_id
),

last_attempt as (
    select
        s.invoice_id,
        max(s.status) as last_payment_status
    from settlements as s
    inner join summed as m
        on s.invoice_id = m.invoice_id
            and s.event_at = m.last_payment_attempt_at
    where s.status in ('succeeded', 'failed')
    group by s.invoice_id
)

select
    i.invoice_id,
    i.account_id,
    i.invoice_date,
    i.due_date,
    i.status,
    i.currency,
    i.total,
    {{ to_reporting('i.total', 'fx') }} as total_usd,
    fx.units_per_usd is null as is_missing_fx_rate,
    i.status = 'void' as is_void,
    i.status <> 'void' and i.total > 0 as is_receivable,
    -- typed: PostgreSQL would keep each value's own scale (0 beside 300.0000) in a bare numeric
    cast(coalesce(s.paid_amount, 0) as decimal(18, 4)) as paid_amount,
    cast(coalesce(s.refunded_amount, 0) as decimal(18, 4)) as refunded_amount,
    cast(coalesce(s.credited_amount, 0) as decimal(18, 4)) as credited_amount,
    cast(case
        when i.status <> 'void' and i.total > 0 then i.total + coalesce(s.balance_change, 0)
        else 0
    end as decimal(18, 4)) as open_amount,
    coalesce(s.failed_attempts, 0) as failed_attempts,
    coalesce(s.payment_attempts, 0) as payment_attempts,
    s.last_payment_attempt_at,
    la.last_payment_status
from invoices as i
left join summed as s on i.invoice_id = s.invoice_id
left join last_attempt as la on i.invoice_id = la.invoice_id
{{ fx_join('fx', 'i.currency', 'i.invoice_date') }}
