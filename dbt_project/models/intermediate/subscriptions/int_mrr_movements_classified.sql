-- rule: R5 movements and the FX effect. Per account and month, prev = MRR(M−1), cur = MRR(M) in the
-- account's currency: new (prev = 0 < cur, never had MRR), reactivation (prev = 0 < cur, had MRR),
-- expansion (0 < prev < cur), contraction (0 < cur < prev), churn (prev > 0 = cur).
-- In the reporting currency the movement is cur − prev both at M's rate, and
-- fx = prev at M's rate − prev at (M−1)'s rate, so the bridge closes exactly.
with months as (
    select *
    from {{ ref('int_mrr_account_monthly') }}
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
        mrr_usd - prev_mrr_usd_at_month_rate as amount_usd
    from months
),

fx as (
    -- a currency whose first rate comes after MRR started: the month its MRR becomes translatable,
    -- the carried MRR enters the reporting-currency totals as fx (opening had it as NULL, excluded)
    select
        account_id,
        month,
        currency,
        'fx' as movement_type,
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
    currency,
    cast(amount as {{ type_mrr() }}) as amount,
    cast(amount_usd as {{ type_mrr() }}) as amount_usd
from classified
where movement_type is not null
union all
select
    account_id,
    month,
    movement_type,
    currency,
    amount,
    cast(amount_usd as {{ type_mrr() }}) as amount_usd
from fx
