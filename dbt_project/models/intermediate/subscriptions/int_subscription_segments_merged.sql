-- rule: R2 segments. Day states folded into maximal intervals [valid_from, valid_to) with one
-- (plan, quantity, unit_price, status) and one billing anchor; cancel closes the last segment.
-- R5: segment MRR = quantity × unit_price / billing_period_months for active recurring segments,
-- unrounded (decimal(38,10), rounded half away at the 10th decimal); paused, usage, one-time: 0.
with states as (
    select *
    from {{ ref('int_subscription_events_folded') }}
    where status is not null
),

flagged as (
    select
        *,
        case
            when lag(status) over w is null then 1
            when lag(status) over w <> status then 1
            when coalesce(lag(plan_id) over w, '~') <> coalesce(plan_id, '~') then 1
            when coalesce(lag(quantity) over w, -1) <> coalesce(quantity, -1) then 1
            when coalesce(lag(unit_price) over w, -1) <> coalesce(unit_price, -1) then 1
            when coalesce(lag(anchor_date) over w, cast('1900-01-01' as date)) <> coalesce(anchor_date, cast('1900-01-01' as date)) then 1
            else 0
        end as is_new_segment
    from states
    window w as (partition by subscription_id order by effective_date)
),

grouped as (
    select
        *,
        sum(is_new_segment) over (
            partition by subscription_id order by effective_date
            rows between unbounded preceding and current row
        ) as segment_number
    from flagged
),

segments as (
    select
        subscription_id,
        segment_number,
        min(effective_date) as valid_from,
        max(account_id) as account_id,
        max(contract_id) as contract_id,
        max(plan_id) as plan_id,
        max(quantity) as quantity,
        max(unit_price) as unit_price,
        max(status) as status,
        max(currency) as currency,
        max(anchor_date) as anchor_date
    from grouped
    group by subscription_id, segment_number
),

bounded as (
    select
        *,
        lead(valid_from) over (partition by subscription_id order by valid_from) as valid_to
    from segments
)

select
    b.subscription_id,
    b.account_id,
    b.contract_id,
    b.valid_from,
    b.valid_to,
    b.plan_id,
    p.charge_type,
    p.product_family,
    p.billing_period_months,
    b.quantity,
    b.unit_price,
    b.status,
    b.currency,
    b.anchor_date,
    case
        when b.status = 'active' and p.charge_type = 'recurring'
            then {{ div_round(mul_money('b.quantity', 'b.unit_price'), 'p.billing_period_months', 10) }}
        else cast(0 as {{ type_mrr() }})
    end as mrr
from bounded as b
left join {{ ref('stg_billing__plans') }} as p on b.plan_id = p.plan_id
where b.status in ('active', 'paused')
    and b.valid_from <= {{ as_of_date() }}
