-- rule: R3/R4. Every computed line (billed or the as-of month's unbilled usage) has a schedule, and the
-- invoices total their lines.
select
    l.invoice_line_key,
    'line without schedule' as failure
from {{ ref('fct_invoice_lines') }} as l
where not exists (
        select 1 from {{ ref('int_revenue_schedule_split') }} as s
        where s.invoice_line_key = l.invoice_line_key
    )
union all
select
    i.invoice_key,
    'invoice total differs from its lines' as failure
from {{ ref('fct_invoices') }} as i
inner join (
    select
        invoice_key,
        sum(amount) as amount
    from {{ ref('fct_invoice_lines') }}
    group by invoice_key
) as l on i.invoice_key = l.invoice_key
where i.amount <> l.amount
