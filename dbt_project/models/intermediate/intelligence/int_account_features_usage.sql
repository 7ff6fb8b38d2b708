-- rule: M1 renewal risk, entitlement and usage trend. Per observation (int_account_features_mrr):
-- seats = Σ quantity of the active platform subscriptions (recurring) on M's snapshot day and on
-- M−6's; usage = Σ metered quantity (all metrics) that occurred in M and was received by the
-- observation day, against the quantity of the three months before, M−3 … M−1 (received by the
-- observation day too). Accounts without a usage add-on have 0 for both.
with platform as (
    select
        account_id,
        valid_from,
        valid_to,
        quantity
    from {{ ref('int_subscription_segments_merged') }}
    where charge_type = 'recurring' and status = 'active' and product_family = 'platform'
),

seats as (
    select
        o.account_id,
        o.month,
        sum(case
            when p.valid_from <= o.observed_at and (p.valid_to is null or p.valid_to > o.observed_at)
                then p.quantity
            else 0
        end) as seats,
        sum(case
            when p.valid_from <= {{ month_snapshot_day(add_months(-6, 'o.month')) }}
                and (p.valid_to is null or p.valid_to > {{ month_snapshot_day(add_months(-6, 'o.month')) }})
                then p.quantity
            else 0
        end) as seats_6m_ago
    from {{ ref('int_account_features_mrr') }} as o
    left join platform as p on o.account_id = p.account_id
    group by o.account_id, o.month
),

usage_monthly as (
    select
        account_id,
        {{ month_start('occurred_at') }} as occurred_month,
        cast(received_at as date) as received_date,
        sum(quantity) as quantity
    from {{ ref('int_usage_screened') }}
    where is_deleted is not true
    group by account_id, {{ month_start('occurred_at') }}, cast(received_at as date)
),

usage_windows as (
    select
        o.account_id,
        o.month,
        sum(case when u.occurred_month = o.month then u.quantity else 0 end) as usage_1m,
        sum(case when u.occurred_month < o.month then u.quantity else 0 end) as usage_prior_3m
    from {{ ref('int_account_features_mrr') }} as o
    left join usage_monthly as u
        on o.account_id = u.account_id
            and u.occurred_month >= {{ add_months(-3, 'o.month') }}
            and u.occurred_month <= o.month
            and u.received_date <= o.observed_at
    group by o.account_id, o.month
)

select
    s.account_id,
    s.month,
    cast(s.seats as decimal(18, 4)) as seats,
    cast(s.seats_6m_ago as decimal(18, 4)) as seats_6m_ago,
    cast(u.usage_1m as decimal(18, 4)) as usage_1m,
    cast(u.usage_prior_3m as decimal(18, 4)) as usage_prior_3m
from seats as s
inner join usage_windows as u on s.account_id = u.account_id and s.month = u.month
