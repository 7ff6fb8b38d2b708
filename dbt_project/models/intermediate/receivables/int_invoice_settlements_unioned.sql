-- rule: R8 receivables. Every settlement event of an issued invoice, one row per payment or credit note:
-- payments by the UTC date of attempted_at, credit notes by issued_date, both on or before the as-of date.
-- balance_change is the event's effect on the invoice's open balance (R8: − succeeded, + refunded,
-- − credit note; failed attempts 0). Events of void invoices are dropped (void is excluded everywhere),
-- as are payments whose invoice is not an issued invoice dated on or before the as-of date.
-- Credit notes without invoice_id are account credits: kept (is_account_credit, balance_change 0),
-- they reduce no invoice and so no receivable. amount_usd at the event's own date (R1).
-- effective_date = max(event date, invoice date): an event dated before its invoice counts from the invoice date.
with invoices as (
    select
        invoice_id,
        invoice_date,
        status
    from {{ ref('int_invoices_screened') }}
    where invoice_date <= {{ as_of_date() }}
),

events as (
    select
        payment_id as settlement_id,
        'payment' as settlement_type,
        invoice_id,
        account_id,
        status,
        attempted_at as event_at,
        cast(attempted_at as date) as event_date,
        amount,
        currency
    from {{ ref('int_payments_screened') }}
    where cast(attempted_at as date) <= {{ as_of_date() }}

    union all

    select
        credit_note_id as settlement_id,
        'credit_note' as settlement_type,
        invoice_id,
        account_id,
        case when invoice_id is null then 'account_credit' else 'credited' end as status,
        cast(issued_date as {{ dbt.type_timestamp() }}) as event_at,
        issued_date as event_date,
        amount,
        currency
    from {{ ref('int_credit_notes_screened') }}
    where issued_date <= {{ as_of_date() }}
)

select
    e.settlement_id,
    e.settlement_type,
    e.invoice_id,
    e.account_id,
    e.status,
    e.event_at,
    e.event_date,
    case when e.event_date < i.invoice_date then i.invoice_date else e.event_date end as effective_date,
    e.invoice_id is null as is_account_credit,
    e.amount,
    cast(case
        when e.status = 'succeeded' then 0 - e.amount
        when e.status = 'refunded' then e.amount
        when e.status = 'credited' then 0 - e.amount
        else 0
    end as decimal(18, 4)) as balance_change,
    e.currency,
    {{ to_reporting('e.amount', 'fx') }} as amount_usd,
    fx.units_per_usd is null as is_missing_fx_rate
from events as e
left join invoices as i on e.invoice_id = i.invoice_id
{{ fx_join('fx', 'e.currency', 'e.event_date') }}
where
    (e.invoice_id is null and e.settlement_type = 'credit_note')
    or (i.invoice_id is not null and i.status <> 'void')
