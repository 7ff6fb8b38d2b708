-- rule: R5. Movement causes split R5's movements without changing them: per account, month and
-- type the causes add up to MRR(M) − MRR(M−1) (account currency and reporting currency at M's
-- rate), each cause belongs to its type, and the bridge's cause columns add up to churn and
-- reactivation.
with movements as (
    select
        account_id,
        month,
        movement_type,
        sum(amount) as amount,
        sum(amount_usd) as amount_usd,
        max(case when amount_usd is null then 1 else 0 end) as has_missing_rate,
        max(
            case
                when movement_type = 'churn' and movement_cause in ('cancel', 'pause', 'downgrade_to_zero') then 0
                when movement_type = 'reactivation' and movement_cause in ('resume', 'reactivation') then 0
                when movement_type in ('new', 'expansion', 'contraction', 'fx') and movement_cause = movement_type then 0
                else 1
            end
        ) as has_foreign_cause
    from {{ ref('fct_mrr_movements') }}
    group by account_id, month, movement_type
)

select
    mv.account_id,
    mv.month,
    mv.movement_type as failure
from movements as mv
inner join {{ ref('int_mrr_account_monthly') }} as m on mv.account_id = m.account_id and mv.month = m.month
where mv.has_foreign_cause = 1
    or (mv.movement_type <> 'fx' and mv.amount <> m.mrr - m.prev_mrr)
    or (mv.movement_type <> 'fx' and mv.has_missing_rate = 0 and mv.amount_usd <> m.mrr_usd - m.prev_mrr_usd_at_month_rate)
union all
select
    null as account_id,
    b.month,
    'bridge causes' as failure
from {{ ref('mrr_bridge_monthly') }} as b
where b.churn_cancelled_usd + b.churn_paused_usd + b.churn_downgraded_to_zero_usd <> b.churn_usd
    or b.reactivation_resumed_usd + b.reactivation_other_usd <> b.reactivation_usd
