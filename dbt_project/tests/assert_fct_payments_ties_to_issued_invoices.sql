-- rule: R8 receivables. The payments fct_payments marks counts_in_receivables are exactly those behind
-- fct_issued_invoices: per invoice, attempts, failed attempts, paid (succeeded) and refunded amounts
-- (rounded to cents as there) agree (void invoices: none), and no counted payment is on an invoice
-- fct_issued_invoices lacks.
-- Returns the invoices that break.
with listed as (
    select
        invoice_id,
        sum(case when is_attempt then 1 else 0 end) as payment_attempts,
        sum(case when status = 'failed' then 1 else 0 end) as failed_attempts,
        {{ round_money("sum(case when status = 'succeeded' then amount else 0 end)") }} as paid_amount,
        {{ round_money("sum(case when status = 'refunded' then amount else 0 end)") }} as refunded_amount
    from {{ ref('fct_payments') }}
    where counts_in_receivables
    group by invoice_id
)

select
    coalesce(i.invoice_id, l.invoice_id) as invoice_id,
    i.payment_attempts,
    l.payment_attempts as listed_attempts,
    i.paid_amount,
    l.paid_amount as listed_paid
from {{ ref('fct_issued_invoices') }} as i
full outer join listed as l on i.invoice_id = l.invoice_id
where
    i.invoice_id is null
    or coalesce(l.payment_attempts, 0) <> i.payment_attempts
    or coalesce(l.failed_attempts, 0) <> i.failed_attempts
    or coalesce(l.paid_amount, 0) <> i.paid_amount
    or coalesce(l.refunded_amount, 0) <> i.refunded_amount
