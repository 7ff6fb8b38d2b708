-- rule: R3 computed invoices (+ R1 conversion at the line's own date).
-- All computed lines: recurring and proration (int_subscription_lines_prorated), usage
-- (int_usage_rated_monthly, the as-of month's line flagged is_billed = false), one-time charges.
-- invoice_key = account|invoice_date|currency; invoice_line_key is deterministic:
--   <subscription_id>|<line_type>|<charge|credit>|<service_start>, <subscription_id>|usage|<month>,
--   <charge_id>|one_time.
-- Incremental (macros/incremental.sql): the lines of changed accounts and those dated in the window.
{{ incremental_fact('account_id', 'invoice_date') }}
with lines as (
    select
        subscription_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        account_id, plan_id, currency, line_type,
        {{ dbt.concat(['subscription_id', "'|'", 'line_type', "'|'", 'line_kind', "'|'", date_key('service_start')]) }} as invoice_line_key,
        invoice_date, service_start, service_end, quantity, amount,
        true as is_billed
    from {{ ref('int_subscription_lines_prorated') }}
    where {{ changed_scope('account_id', 'invoice_date') }}

    union all

    select
        subscription_id,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        account_id, plan_id, currency,
        'usage' as line_type,
        {{ dbt.concat(['subscription_id', "'|usage|'", date_key('usage_month')]) }} as invoice_line_key,
        invoice_date,
        usage_month as service_start,
        invoice_date as service_end,
        billable_units as quantity,
        amount,
        is_billed
    from {{ ref('int_usage_rated_monthly') }}
    where {{ changed_scope('account_id', 'invoice_date') }}

    union all

    select
        cast(null as {{ dbt.type_string() }}) as subscription_id,
        charge_id,
        account_id, plan_id, currency,
        'one_time' as line_type,
        {{ dbt.concat(['charge_id', "'|one_time'"]) }} as invoice_line_key,
        milestone_date as invoice_date,
        milestone_date as service_start,
        {{ add_days(1, 'milestone_date') }} as service_end,
        cast(1 as decimal(18, 4)) as quantity,
        {{ round_money('amount') }} as amount,
        true as is_billed
    from {{ ref('int_one_time_charges_screened') }}
    where milestone_date <= {{ as_of_date() }}
        and {{ changed_scope('account_id', 'milestone_date') }}
)

select
    l.invoice_line_key,
    {{ dbt.concat(['l.account_id', "'|'", date_key('l.invoice_date'), "'|'", 'l.currency']) }} as invoice_key,
    l.account_id,
    l.subscription_id,
    l.charge_id,
    l.plan_id,
    p.product_family,
    l.line_type,
    l.invoice_date,
    l.service_start,
    l.service_end,
    l.quantity,
    cast(l.amount as decimal(18, 2)) as amount,
    l.currency,
    {{ to_reporting('l.amount', 'fx') }} as amount_usd,
    fx.units_per_usd is null as is_missing_fx_rate,
    l.is_billed
from lines as l
left join {{ ref('stg_billing__plans') }} as p on l.plan_id = p.plan_id
{{ fx_join('fx', 'l.currency', 'l.invoice_date') }}
