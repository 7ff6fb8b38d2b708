-- rule: A3 rule-based billing anomalies (docs/metrics.md), one row per finding:
-- duplicate_line: two or more issued lines of one non-void invoice with the same subscription (or charge),
--   service period and amount (month: the period start's; observed: the lines billed, expected 1);
-- price_above_list: a subscription event priced more than 30 % over its plan's list price (agreed renewal
--   uplifts stay below; month: the effective date's; observed: the unit price, expected up to 1.3 × list);
-- usage_after_cancellation: usage of a subscription on or after the effective date of its last event
--   when that event is a cancel (month: the usage month; observed: the quantity, expected 0).
with issued as (
    select
        l.invoice_line_id,
        l.invoice_id,
        coalesce(l.subscription_id, l.charge_id) as ref,
        l.period_start,
        l.period_end,
        l.amount,
        i.account_id
    from {{ ref('int_invoice_lines_screened') }} as l
    inner join {{ ref('int_invoices_screened') }} as i on l.invoice_id = i.invoice_id
    where i.status <> 'void' and i.invoice_date <= {{ as_of_date() }}
),

duplicates as (
    select
        account_id,
        cast({{ month_start('period_start') }} as date) as month,
        'duplicate_line' as kind,
        cast(count(*) as decimal(18, 4)) as observed,
        cast(0 as decimal(18, 2)) as expected_low,
        cast(1 as decimal(18, 2)) as expected_high,
        {{ id_list('invoice_line_id') }} as row_ids,
        {{ dbt.concat(["'lines of '", 'max(ref)', "' for '", 'cast(max(period_start) as ' ~ dbt.type_string() ~ ')', "' billed '", 'cast(count(*) as ' ~ dbt.type_string() ~ ')', "' times on '", 'max(invoice_id)']) }} as evidence
    from issued
    where ref is not null
    group by account_id, invoice_id, ref, period_start, period_end, amount
    having count(*) > 1
),

events as (
    select
        e.event_id,
        e.subscription_id,
        e.account_id,
        e.event_type,
        e.effective_date,
        e.recorded_at,
        e.unit_price,
        p.unit_price as list_price
    from {{ ref('int_subscription_events_screened') }} as e
    left join {{ ref('stg_billing__plans') }} as p on e.plan_id = p.plan_id
    where e.effective_date <= {{ as_of_date() }}
),

over_list as (
    select
        account_id,
        cast({{ month_start('effective_date') }} as date) as month,
        'price_above_list' as kind,
        unit_price as observed,
        cast(0 as decimal(18, 2)) as expected_low,
        cast(round(list_price * 1.3, 2) as decimal(18, 2)) as expected_high,
        event_id as row_ids,
        {{ dbt.concat(["'unit price '", 'cast(unit_price as ' ~ dbt.type_string() ~ ')', "' vs list '", 'cast(list_price as ' ~ dbt.type_string() ~ ')', "' on '", 'event_id']) }} as evidence
    from events
    where unit_price > list_price * 1.3
),

last_event as (
    select
        subscription_id,
        max(effective_date) as last_date
    from events
    group by subscription_id
),

cancelled as (
    select
        e.subscription_id,
        max(e.effective_date) as cancel_date
    from events as e
    inner join last_event as l
        on e.subscription_id = l.subscription_id
            and e.effective_date = l.last_date
    group by e.subscription_id
    having max(case when e.event_type = 'cancel' then 1 else 0 end) = 1
        and min(case when e.event_type = 'cancel' then 1 else 0 end) = 1
),

after_cancel as (
    select
        u.account_id,
        cast({{ month_start('u.occurred_at') }} as date) as month,
        'usage_after_cancellation' as kind,
        cast(sum(u.quantity) as decimal(18, 4)) as observed,
        cast(0 as decimal(18, 2)) as expected_low,
        cast(0 as decimal(18, 2)) as expected_high,
        {{ id_list('u.usage_id') }} as row_ids,
        {{ dbt.concat(["'usage of '", 'max(u.subscription_id)', "' after its cancel on '", 'cast(max(c.cancel_date) as ' ~ dbt.type_string() ~ ')']) }} as evidence
    from {{ ref('int_usage_screened') }} as u
    inner join cancelled as c
        on u.subscription_id = c.subscription_id
            and cast(u.occurred_at as date) >= c.cancel_date
    where cast(u.occurred_at as date) <= {{ as_of_date() }}
    group by u.account_id, u.subscription_id, cast({{ month_start('u.occurred_at') }} as date)
)

select * from duplicates
union all
select * from over_list
union all
select * from after_cancel
