-- rule: R5 movements and the FX effect. Per account and month, prev = MRR(M−1), cur = MRR(M) in the
-- account's currency: new (prev = 0 < cur, never had MRR), reactivation (prev = 0 < cur, had MRR),
-- expansion (0 < prev < cur), contraction (0 < cur < prev), churn (prev > 0 = cur).
-- In the reporting currency the movement is cur − prev both at M's rate, and
-- fx = prev at M's rate − prev at (M−1)'s rate, so the bridge closes exactly.
-- Movement cause (R5's arithmetic unchanged, the movement only split by why it happened), read from
-- each subscription's segment on the two snapshot days (int_mrr_subscription_monthly):
--   churn: per subscription whose MRR went to 0 — pause (paused on M's snapshot day), cancel (no
--     segment any more: cancelled), downgrade_to_zero (still active at 0 MRR: a usage plan, 0 seats
--     or a 0 price);
--   reactivation: per subscription whose MRR came back — resume (it was paused on M−1's snapshot
--     day), else reactivation (a new or re-activated subscription, or an upgrade from 0 MRR);
--   new, expansion, contraction, fx: the cause is the movement type (a pause that only lowers an
--     account's MRR stays a contraction).
-- A churn or reactivation with two causes (one subscription paused, another cancelled) is two rows;
-- their amounts add up to the account's movement exactly (the reporting-currency rounding residual
-- is carried by the larger part).
-- Incremental (macros/incremental.sql): changed accounts' months and the months in the window (with
-- the subscriptions of the month before).
{{ incremental_fact('account_id', 'month') }}
with months as (
    select *
    from {{ ref('int_mrr_account_monthly') }}
    where {{ changed_scope('account_id', 'month') }}
),

classified as (
    select
        account_id,
        month,
        currency,
        case
            when prev_mrr = 0 and mrr > 0 and not had_mrr_before then 'new'
            when prev_mrr = 0 and mrr > 0 then 'reactivation'
            when prev_mrr > 0 and mrr = 0 then 'churn'
            when prev_mrr > 0 and mrr > prev_mrr then 'expansion'
            when mrr > 0 and mrr < prev_mrr then 'contraction'
        end as movement_type,
        mrr - prev_mrr as amount,
        mrr_usd - prev_mrr_usd_at_month_rate as amount_usd,
        units_per_usd,
        reporting_units_per_usd
    from months
),

subscriptions as (
    select
        account_id,
        month,
        subscription_id,
        status,
        mrr
    from {{ ref('int_mrr_subscription_monthly') }}
    where {{ changed_scope('account_id', add_months(1, 'month')) }}
),

subscription_months as (
    -- every subscription in force on M's or on M−1's snapshot day, once per account-month M
    select
        account_id,
        month,
        subscription_id
    from subscriptions
    union
    select
        account_id,
        {{ add_months(1, 'month') }} as month,
        subscription_id
    from subscriptions
),

subscription_pairs as (
    select
        k.account_id,
        k.month,
        c.subscription_id is not null as is_in_force,
        c.status,
        p.status as prev_status,
        coalesce(c.mrr, 0) as mrr,
        coalesce(p.mrr, 0) as prev_mrr
    from subscription_months as k
    left join subscriptions as c
        on k.subscription_id = c.subscription_id and k.month = c.month
    left join subscriptions as p
        on k.subscription_id = p.subscription_id and p.month = {{ add_months(-1, 'k.month') }}
),

subscription_changes as (
    select
        account_id,
        month,
        case
            when prev_mrr > 0 and mrr = 0 and not is_in_force then 'cancel'
            when prev_mrr > 0 and mrr = 0 and status = 'paused' then 'pause'
            when prev_mrr > 0 and mrr = 0 then 'downgrade_to_zero'
            when prev_mrr = 0 and mrr > 0 and prev_status = 'paused' then 'resume'
            when prev_mrr = 0 and mrr > 0 then 'reactivation'
        end as movement_cause,
        mrr - prev_mrr as amount
    from subscription_pairs
),

cause_amounts as (
    select
        account_id,
        month,
        movement_cause,
        sum(amount) as amount
    from subscription_changes
    where movement_cause is not null
    group by account_id, month, movement_cause
),

caused as (
    -- churn splits into pause / cancel / downgrade_to_zero, reactivation into resume / reactivation
    select
        m.account_id,
        m.month,
        m.currency,
        m.movement_type,
        coalesce(ca.movement_cause, m.movement_type) as movement_cause,
        coalesce(ca.amount, m.amount) as amount,
        m.amount as movement_amount,
        m.amount_usd as movement_amount_usd,
        case
            when ca.amount is null then m.amount_usd
            else {{ convert_at('ca.amount', 'm.units_per_usd', 'm.reporting_units_per_usd') }}
        end as part_usd
    from classified as m
    left join cause_amounts as ca
        on m.account_id = ca.account_id
            and m.month = ca.month
            and (
                (m.movement_type = 'churn' and ca.movement_cause in ('pause', 'cancel', 'downgrade_to_zero'))
                or (m.movement_type = 'reactivation' and ca.movement_cause in ('resume', 'reactivation'))
            )
    where m.movement_type is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by account_id, month, movement_type order by abs(amount) desc, movement_cause asc
        ) as size_rank
    from caused
),

with_others as (
    select
        *,
        sum(case when size_rank > 1 then part_usd else 0 end) over (
            partition by account_id, month, movement_type
        ) as other_parts_usd
    from ranked
),

balanced as (
    -- the largest cause takes the movement minus the other causes, so they add up exactly
    select
        account_id,
        month,
        currency,
        movement_type,
        movement_cause,
        amount,
        case when size_rank = 1 then movement_amount_usd - other_parts_usd else part_usd end as amount_usd
    from with_others
),

fx as (
    -- a currency whose first rate comes after MRR started: the month its MRR becomes translatable,
    -- the carried MRR enters the reporting-currency totals as fx (opening had it as NULL, excluded)
    select
        account_id,
        month,
        currency,
        'fx' as movement_type,
        'fx' as movement_cause,
        cast(0 as {{ type_mrr() }}) as amount,
        prev_mrr_usd_at_month_rate - coalesce(prev_mrr_usd, 0) as amount_usd
    from months
    where prev_mrr > 0
        and prev_mrr_usd_at_month_rate is not null
        and (prev_mrr_usd is null or prev_mrr_usd_at_month_rate <> prev_mrr_usd)
)

select
    account_id,
    month,
    movement_type,
    movement_cause,
    currency,
    cast(amount as {{ type_mrr() }}) as amount,
    cast(amount_usd as {{ type_mrr() }}) as amount_usd
from balanced
union all
select
    account_id,
    month,
    movement_type,
    movement_cause,
    currency,
    amount,
    cast(amount_usd as {{ type_mrr() }}) as amount_usd
from fx
