-- rule: R3 usage. Usage is aggregated to subscription × calendar month (UTC) before rating.
-- One line per month in which the subscription had an active day on a usage plan:
-- billable = max(0, Σ quantity − included_units), amount = round(billable × unit_price), with the
-- price and included units in force on the month's last active day; dated the 1st of M+1,
-- service [M, M+1). The as-of month is rated to date and flagged unbilled (its line does not exist yet).
-- Incremental (macros/incremental.sql): the months of changed accounts and the months in the window.
{{ incremental_fact('account_id', 'usage_month') }}
with segments as (
    select
        s.*,
        coalesce(p.included_units, 0) as included_units,
        case
            when s.valid_to is null or s.valid_to > {{ as_of_date() }} then {{ as_of_date() }}
            else {{ add_days(-1, 's.valid_to') }}
        end as last_active_day
    from {{ ref('int_subscription_segments_merged') }} as s
    left join {{ ref('stg_billing__plans') }} as p on s.plan_id = p.plan_id
    where s.status = 'active' and s.charge_type = 'usage'
),

in_scope as (
    -- segments of changed accounts (a subscription's accounts change together) or in the window
    select
        *,
        {{ changed_scope(account_col='account_id') }} as is_account_changed
    from segments
    where {{ changed_scope('account_id', month_start('last_active_day')) }}
),

segment_months as (
    select
        s.*,
        {{ add_months('i.n', month_start('s.valid_from')) }} as usage_month
    from in_scope as s
    cross join {{ integers(10) }} as i
    where i.n <= {{ months_between('s.valid_from', 's.last_active_day') }}
),

last_day_in_month as (
    select
        *,
        row_number() over (
            partition by subscription_id, usage_month
            order by case
                when last_active_day < {{ add_months(1, 'usage_month') }} then last_active_day
                else {{ add_months(1, 'usage_month') }}
            end desc
        ) as rn
    from segment_months
),

usage_monthly as (
    select
        subscription_id,
        {{ month_start('cast(occurred_at as date)') }} as usage_month,
        cast(sum(quantity) as decimal(18, 4)) as units
    from {{ ref('int_usage_screened') }}
    where cast(occurred_at as date) <= {{ as_of_date() }}
        and (
            subscription_id in (
                select sc.subscription_id
                from in_scope as sc
                where sc.is_account_changed
            )
            or {{ changed_scope(date_col=month_start('cast(occurred_at as date)')) }}
        )
    group by subscription_id, {{ month_start('cast(occurred_at as date)') }}
),

rated as (
    select
        m.subscription_id,
        m.account_id,
        m.plan_id,
        m.currency,
        m.usage_month,
        cast(coalesce(u.units, 0) as decimal(18, 4)) as units,
        m.included_units,
        m.unit_price,
        case
            when coalesce(u.units, 0) > m.included_units then cast(coalesce(u.units, 0) - m.included_units as decimal(18, 4))
            else cast(0 as decimal(18, 4))
        end as billable_units
    from last_day_in_month as m
    left join usage_monthly as u
        on m.subscription_id = u.subscription_id and m.usage_month = u.usage_month
    where m.rn = 1
)

select
    subscription_id,
    account_id,
    plan_id,
    currency,
    usage_month,
    units,
    included_units,
    unit_price,
    billable_units,
    {{ round_money(mul_money('billable_units', 'unit_price')) }} as amount,
    {{ add_months(1, 'usage_month') }} as invoice_date,
    {{ add_months(1, 'usage_month') }} <= {{ as_of_date() }} as is_billed
from rated
where {{ changed_scope('account_id', 'usage_month') }}
