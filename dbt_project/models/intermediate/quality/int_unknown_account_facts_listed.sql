-- rule: Q1 unknown accounts (docs/metrics.md; the referential rules of Q1). A fact whose account_id names no
-- crm.accounts row (in any extract so far, deleted rows included, as the loader checks) belongs to no
-- customer: it stays out of every total (revenue, MRR, billing, cash, bookings, costs and margin) and
-- is listed here, one row per fact, so excluded_facts can count it. The loader reports the same rows
-- (audit.reference_breaches, unknown_reference) with their file and row.
-- What hangs on an excluded fact goes with it (reason parent_unknown_account):
-- * a subscription is excluded whole when any of its events names an unknown account (dropping only
--   that event, e.g. its cancel, would invent MRR): all its events, and its usage;
-- * an invoice of an unknown account takes its lines, payments and credit notes along.
-- Contracts and purchase orders are not screened: no total sums them (approvals keep their trail).
-- amount: what the fact would have carried into a total, in `currency`: one-time charge amount,
-- invoice total, line amount, payment net cash (succeeded +, refunded −, failed 0), credit note
-- amount, bill amount, closed-won opportunity amount (else 0); ticket and implementation costs at the
-- R7 rates (reporting currency); NULL for events and usage (their money is derived later).
-- amount_usd at the fact's own date (R1); no rate → NULL and is_missing_fx_rate, never zero.
with accounts as (
    select account_id from {{ ref('stg_crm__accounts') }}
),

events as (
    select
        e.event_id,
        e.subscription_id,
        e.account_id,
        e.effective_date,
        e.currency,
        a.account_id is null as names_unknown
    from {{ ref('stg_billing__subscription_events') }} as e
    left join accounts as a on e.account_id = a.account_id
),

excluded_subscriptions as (
    select
        subscription_id,
        max(account_id) as unknown_account_id
    from events
    where names_unknown
    group by subscription_id
),

invoices as (
    select
        i.invoice_id,
        i.account_id,
        i.invoice_date,
        i.currency,
        i.total,
        a.account_id is null as names_unknown
    from {{ ref('stg_billing__invoices') }} as i
    left join accounts as a on i.account_id = a.account_id
),

excluded_invoices as (
    select
        invoice_id,
        account_id as unknown_account_id,
        invoice_date,
        currency
    from invoices
    where names_unknown
),

facts as (
    select
        'billing.subscription_events' as fact_table,
        e.event_id as fact_key,
        e.account_id,
        x.unknown_account_id,
        case when e.names_unknown then 'unknown_account' else 'parent_unknown_account' end as reason,
        e.effective_date as fact_date,
        e.currency,
        cast(null as decimal(18, 4)) as amount,
        false as is_reporting_amount
    from events as e
    inner join excluded_subscriptions as x on e.subscription_id = x.subscription_id

    union all

    select
        'billing.usage' as fact_table,
        u.usage_id as fact_key,
        u.account_id,
        case when a.account_id is null then u.account_id else x.unknown_account_id end as unknown_account_id,
        case when a.account_id is null then 'unknown_account' else 'parent_unknown_account' end as reason,
        cast(u.occurred_at as date) as fact_date,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as decimal(18, 4)) as amount,
        false as is_reporting_amount
    from {{ ref('stg_billing__usage') }} as u
    left join accounts as a on u.account_id = a.account_id
    left join excluded_subscriptions as x on u.subscription_id = x.subscription_id
    where a.account_id is null or x.subscription_id is not null

    union all

    select
        'billing.one_time_charges' as fact_table,
        c.charge_id as fact_key,
        c.account_id,
        c.account_id as unknown_account_id,
        'unknown_account' as reason,
        c.milestone_date as fact_date,
        c.currency,
        c.amount,
        false as is_reporting_amount
    from {{ ref('stg_billing__one_time_charges') }} as c
    left join accounts as a on c.account_id = a.account_id
    where a.account_id is null

    union all

    select
        'billing.invoices' as fact_table,
        i.invoice_id as fact_key,
        i.unknown_account_id as account_id,
        i.unknown_account_id,
        'unknown_account' as reason,
        i.invoice_date as fact_date,
        i.currency,
        v.total as amount,
        false as is_reporting_amount
    from excluded_invoices as i
    inner join invoices as v on i.invoice_id = v.invoice_id

    union all

    select
        'billing.invoice_lines' as fact_table,
        l.invoice_line_id as fact_key,
        i.unknown_account_id as account_id,
        i.unknown_account_id,
        'parent_unknown_account' as reason,
        i.invoice_date as fact_date,
        i.currency,
        l.amount,
        false as is_reporting_amount
    from {{ ref('stg_billing__invoice_lines') }} as l
    inner join excluded_invoices as i on l.invoice_id = i.invoice_id

    union all

    select
        'billing.payments' as fact_table,
        p.payment_id as fact_key,
        p.account_id,
        case when a.account_id is null then p.account_id else i.unknown_account_id end as unknown_account_id,
        case when a.account_id is null then 'unknown_account' else 'parent_unknown_account' end as reason,
        cast(p.attempted_at as date) as fact_date,
        p.currency,
        case p.status
            when 'succeeded' then p.amount
            when 'refunded' then 0 - p.amount
            else cast(0 as decimal(18, 4))
        end as amount,
        false as is_reporting_amount
    from {{ ref('stg_billing__payments') }} as p
    left join accounts as a on p.account_id = a.account_id
    left join excluded_invoices as i on p.invoice_id = i.invoice_id
    where a.account_id is null or i.invoice_id is not null

    union all

    select
        'billing.credit_notes' as fact_table,
        c.credit_note_id as fact_key,
        c.account_id,
        case when a.account_id is null then c.account_id else i.unknown_account_id end as unknown_account_id,
        case when a.account_id is null then 'unknown_account' else 'parent_unknown_account' end as reason,
        c.issued_date as fact_date,
        c.currency,
        c.amount,
        false as is_reporting_amount
    from {{ ref('stg_billing__credit_notes') }} as c
    left join accounts as a on c.account_id = a.account_id
    left join excluded_invoices as i on c.invoice_id = i.invoice_id
    where a.account_id is null or i.invoice_id is not null

    union all

    select
        'support.tickets' as fact_table,
        t.ticket_id as fact_key,
        t.account_id,
        t.account_id as unknown_account_id,
        'unknown_account' as reason,
        cast(t.created_at as date) as fact_date,
        '{{ var("reporting_currency") }}' as currency,
        {{ round_money(mul_money('coalesce(t.handle_minutes, 0)', "cast('" ~ var('support_cost_per_minute') ~ "' as decimal(18, 4))")) }}
            as amount,
        true as is_reporting_amount
    from {{ ref('stg_support__tickets') }} as t
    left join accounts as a on t.account_id = a.account_id
    where a.account_id is null

    union all

    select
        'support.implementations' as fact_table,
        m.implementation_id as fact_key,
        m.account_id,
        m.account_id as unknown_account_id,
        'unknown_account' as reason,
        coalesce(m.kickoff_date, cast(m.updated_at as date)) as fact_date,
        '{{ var("reporting_currency") }}' as currency,
        {{ round_money(mul_money('coalesce(m.hours_logged, 0)', "cast('" ~ var('services_cost_per_hour') ~ "' as decimal(18, 4))")) }}
            as amount,
        true as is_reporting_amount
    from {{ ref('stg_support__implementations') }} as m
    left join accounts as a on m.account_id = a.account_id
    where a.account_id is null

    union all

    select
        'crm.opportunities' as fact_table,
        o.opportunity_id as fact_key,
        o.account_id,
        o.account_id as unknown_account_id,
        'unknown_account' as reason,
        coalesce(o.close_date, cast(o.created_at as date)) as fact_date,
        o.currency,
        case when o.stage = 'closed_won' then o.amount else cast(0 as decimal(18, 4)) end as amount,
        false as is_reporting_amount
    from {{ ref('stg_crm__opportunities') }} as o
    left join accounts as a on o.account_id = a.account_id
    where a.account_id is null

    union all

    select
        'procurement.vendor_bills' as fact_table,
        b.bill_id as fact_key,
        b.account_id,
        b.account_id as unknown_account_id,
        'unknown_account' as reason,
        b.bill_date as fact_date,
        b.currency,
        b.amount,
        false as is_reporting_amount
    from {{ ref('stg_procurement__vendor_bills') }} as b
    left join accounts as a on b.account_id = a.account_id
    where b.account_id is not null and a.account_id is null
)

select
    f.fact_table,
    f.fact_key,
    f.account_id,
    f.unknown_account_id,
    f.reason,
    f.fact_date,
    f.currency,
    cast(f.amount as decimal(18, 4)) as amount,
    case
        when f.is_reporting_amount then {{ round_money('f.amount') }}
        else {{ to_reporting('f.amount', 'fx') }}
    end as amount_usd,
    f.amount is not null and not f.is_reporting_amount and fx.units_per_usd is null as is_missing_fx_rate
from facts as f
{{ fx_join('fx', 'f.currency', 'f.fact_date') }}
