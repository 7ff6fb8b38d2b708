-- rule: R3 billing periods and proration (docs/metrics.md R3, decisions 1-5).
-- Periods k of an anchor a with n-month billing: [add_months(a, k·n), add_months(a, (k+1)·n)),
-- always added to the anchor (month-end clamped), generated from a period-number spine (no day rows).
-- Per active recurring segment [valid_from, valid_to):
--   recurring  full period starting inside the segment: round(q × p), dated the period start
--   proration  segment starting inside a period [s, e) (a change): +round(q·p·days(vf, e)/days(s, e))
--   proration  segment ending inside a period (change, pause, cancel): −round(q·p·days(vt, e)/days(s, e))
-- Only lines dated on or before the as-of date exist.
-- Incremental (macros/incremental.sql): the lines of changed accounts and those dated in the window;
-- a segment ended before the window dates no line in it.
{{ incremental_fact('account_id', 'invoice_date') }}
with segments as (
    select
        *,
        coalesce(valid_to, {{ add_days(1, as_of_date()) }}) as bill_until
    from {{ ref('int_subscription_segments_merged') }}
    where status = 'active' and charge_type = 'recurring' and billing_period_months > 0
        and {{ changed_scope('account_id', 'coalesce(valid_to, ' ~ add_days(1, as_of_date()) ~ ')') }}
),

spans as (
    select
        *,
        case
            when floor({{ months_between('anchor_date', 'valid_from') }} / billing_period_months) - 1 > 0
                then cast(floor({{ months_between('anchor_date', 'valid_from') }} / billing_period_months) as {{ dbt.type_int() }}) - 1
            else 0
        end as first_k,
        cast(floor({{ months_between('anchor_date', 'bill_until') }} / billing_period_months) as {{ dbt.type_int() }}) + 1 as last_k
    from segments
),

periods as (
    select
        s.*,
        s.first_k + i.n as period_number,
        {{ add_months('(s.first_k + i.n) * s.billing_period_months', 's.anchor_date') }} as period_start,
        {{ add_months('(s.first_k + i.n + 1) * s.billing_period_months', 's.anchor_date') }} as period_end
    from spans as s
    cross join {{ integers(10) }} as i
    where s.first_k + i.n <= s.last_k
),

live_periods as (
    select
        *,
        {{ mul_money('quantity', 'unit_price') }} as full_amount,
        {{ days_between('period_start', 'period_end') }} as period_days
    from periods
    where period_end > valid_from
        and period_start < coalesce(valid_to, cast('9999-12-31' as date))
        and period_start <= {{ as_of_date() }}
),

lines as (
    select
        subscription_id, account_id, plan_id, currency, quantity,
        'recurring' as line_type,
        'charge' as line_kind,
        period_start as invoice_date,
        period_start as service_start,
        period_end as service_end,
        {{ round_money('full_amount') }} as amount
    from live_periods
    where period_start >= valid_from

    union all

    select
        subscription_id, account_id, plan_id, currency, quantity,
        'proration' as line_type,
        'charge' as line_kind,
        valid_from as invoice_date,
        valid_from as service_start,
        period_end as service_end,
        cast({{ div_round('full_amount * ' ~ days_between('valid_from', 'period_end'), 'period_days', 2) }} as decimal(18, 2)) as amount
    from live_periods
    where period_start < valid_from

    union all

    select
        subscription_id, account_id, plan_id, currency, quantity,
        'proration' as line_type,
        'credit' as line_kind,
        valid_to as invoice_date,
        valid_to as service_start,
        period_end as service_end,
        cast(0 - {{ div_round('full_amount * ' ~ days_between('valid_to', 'period_end'), 'period_days', 2) }} as decimal(18, 2)) as amount
    from live_periods
    where valid_to is not null
        and period_start < valid_to
        and valid_to < period_end
        and valid_to <= {{ as_of_date() }}
)

select
    subscription_id,
    account_id,
    plan_id,
    currency,
    line_type,
    line_kind,
    invoice_date,
    service_start,
    service_end,
    cast(quantity as decimal(18, 4)) as quantity,
    amount
from lines
where {{ changed_scope('account_id', 'invoice_date') }}
