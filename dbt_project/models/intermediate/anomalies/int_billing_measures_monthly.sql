-- rule: A1 billing measures. Per account and month, the measures whose own history judges them:
-- invoice_amount (the lines of non-void invoices dated by the as-of date, each spread evenly over the
-- calendar months of its service period, in the invoice currency: an annual invoice is twelve ordinary
-- months, not a spike; a one-time line counts whole in its month), invoice_total (the same invoices' totals, raw: the
-- yardstick for credit notes, never flagged itself), usage_quantity (quantities of the month's usage rows by occurred_at), credit_notes (amounts of the
-- month's credit notes by issued_date, refund notes included). Months without a row are absent (an
-- account billed yearly has one invoice month a year). row_ids: the rows behind the figure.
with lines as (
    select
        i.account_id,
        i.invoice_id,
        l.amount,
        cast({{ month_start('l.period_start') }} as date) as first_month,
        case
            when l.period_end > l.period_start
                then {{ months_between(month_start('l.period_start'), month_start(add_days(-1, 'l.period_end'))) }} + 1
            else 1
        end as service_months
    from {{ ref('int_invoice_lines_screened') }} as l
    inner join {{ ref('int_invoices_screened') }} as i on l.invoice_id = i.invoice_id
    where i.status <> 'void' and i.invoice_date <= {{ as_of_date() }}
),

per_invoice as (
    -- each line spread evenly over the calendar months of its service period
    select
        l.account_id,
        cast({{ add_months('i.n', 'l.first_month') }} as date) as month,
        l.invoice_id,
        sum(cast(l.amount as decimal(38, 10)) / cast(l.service_months as decimal(38, 10))) as amount
    from lines as l
    cross join {{ integers(6) }} as i
    where i.n < l.service_months
        and cast({{ add_months('i.n', 'l.first_month') }} as date) <= {{ as_of_date() }}
    group by l.account_id, cast({{ add_months('i.n', 'l.first_month') }} as date), l.invoice_id
),

amounts as (
    select
        account_id,
        month,
        'invoice_amount' as measure,
        cast(sum(amount) as decimal(18, 4)) as observed,
        {{ id_list('invoice_id') }} as row_ids
    from per_invoice
    group by account_id, month
),

invoices as (
    select
        account_id,
        cast({{ month_start('invoice_date') }} as date) as month,
        'invoice_total' as measure,
        cast(sum(total) as decimal(18, 4)) as observed,
        {{ id_list('invoice_id') }} as row_ids
    from {{ ref('int_invoices_screened') }}
    where status <> 'void' and invoice_date <= {{ as_of_date() }}
    group by account_id, cast({{ month_start('invoice_date') }} as date)
),

usage as (
    select
        account_id,
        month,
        'usage_quantity' as measure,
        cast(sum(quantity) as decimal(18, 4)) as observed,
        {{ id_list('subscription_id') }} as row_ids
    from (
        select
            account_id,
            subscription_id,
            cast({{ month_start('occurred_at') }} as date) as month,
            sum(quantity) as quantity
        from {{ ref('int_usage_screened') }}
        where cast(occurred_at as date) <= {{ as_of_date() }}
        group by account_id, subscription_id, cast({{ month_start('occurred_at') }} as date)
    ) as u
    group by account_id, month
),

credits as (
    select
        account_id,
        cast({{ month_start('issued_date') }} as date) as month,
        'credit_notes' as measure,
        cast(sum(amount) as decimal(18, 4)) as observed,
        {{ id_list('credit_note_id') }} as row_ids
    from {{ ref('int_credit_notes_screened') }}
    where issued_date <= {{ as_of_date() }}
    group by account_id, cast({{ month_start('issued_date') }} as date)
)

select * from amounts
union all
select * from invoices
union all
select * from usage
union all
select * from credits
